import Foundation

/// Encodes any `Encodable` into a `JSON` value whose objects keep their keys in the order
/// `encode(to:)` wrote them, for `--json` documents whose key order is part of the contract.
///
/// JSONEncoder cannot serve: it keeps an object's keys in a dictionary, so they come out in hash
/// order (measured with Swift 6.3 on Linux; `.sortedKeys` only sorts them). Decoding needs no
/// order: documents are read back with JSONDecoder.
///
/// Nil is whatever `encode(to:)` says: `encode(optional, forKey:)` writes `null` (as JSONEncoder
/// does) and `encodeIfPresent` leaves the key out (as JSONEncoder does). Coding paths are not kept
/// (nothing here throws).
public struct OrderedJSONEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSON {
        let root = Node()
        try value.encode(to: NodeEncoder(node: root))
        return root.json
    }

    /// Pretty-printed with two-space indents (or compact), as every `--json` verb prints.
    public func render<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        try encode(value).rendered(pretty: pretty)
    }
}

/// One value under construction: a leaf, an object or an array.
private final class Node {
    var leaf: JSON?
    var fields: [(String, Node)]?
    var items: [Node]?

    init(_ leaf: JSON? = nil) { self.leaf = leaf }

    var json: JSON {
        if let fields { return .object(fields.map { ($0.0, $0.1.json) }) }
        if let items { return .array(items.map(\.json)) }
        return leaf ?? .object([])
    }

    /// The node for `key`, replacing a value written before under the same key.
    func field(_ key: String, _ value: Node) {
        if fields == nil { fields = [] }
        if let i = fields!.firstIndex(where: { $0.0 == key }) { fields![i].1 = value } else { fields!.append((key, value)) }
    }

    func item(_ value: Node) {
        if items == nil { items = [] }
        items!.append(value)
    }

    static func of<T: Encodable>(_ value: T) throws -> Node {
        let node = Node()
        try value.encode(to: NodeEncoder(node: node))
        return node
    }

    static func int<T: BinaryInteger>(_ value: T) -> Node {
        Node(Int(exactly: value).map(JSON.int) ?? .double(Double(value)))
    }
}

private struct NodeEncoder: Encoder {
    let node: Node
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.fields == nil { node.fields = [] }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.items == nil { node.items = [] }
        return UnkeyedNodeContainer(node: node)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleNodeContainer(node: node) }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws { node.field(key.stringValue, Node(.null)) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.field(key.stringValue, Node(.bool(value))) }
    mutating func encode(_ value: String, forKey key: Key) throws { node.field(key.stringValue, Node(.string(value))) }
    mutating func encode(_ value: Double, forKey key: Key) throws { node.field(key.stringValue, Node(.double(value))) }
    mutating func encode(_ value: Float, forKey key: Key) throws { node.field(key.stringValue, Node(.double(Double(value)))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.field(key.stringValue, Node(.int(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { node.field(key.stringValue, .int(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { node.field(key.stringValue, .int(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { node.field(key.stringValue, .int(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { node.field(key.stringValue, .int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { node.field(key.stringValue, .int(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { node.field(key.stringValue, .int(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { node.field(key.stringValue, .int(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { node.field(key.stringValue, .int(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { node.field(key.stringValue, .int(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { node.field(key.stringValue, try .of(value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = Node()
        node.field(key.stringValue, child)
        return NodeEncoder(node: child).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Node()
        node.field(key.stringValue, child)
        return NodeEncoder(node: child).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = Node()
        node.field(key.stringValue, child)
        return NodeEncoder(node: child)
    }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: Node
    var codingPath: [any CodingKey] { [] }
    var count: Int { node.items?.count ?? 0 }

    mutating func encodeNil() throws { node.item(Node(.null)) }
    mutating func encode(_ value: Bool) throws { node.item(Node(.bool(value))) }
    mutating func encode(_ value: String) throws { node.item(Node(.string(value))) }
    mutating func encode(_ value: Double) throws { node.item(Node(.double(value))) }
    mutating func encode(_ value: Float) throws { node.item(Node(.double(Double(value)))) }
    mutating func encode(_ value: Int) throws { node.item(Node(.int(value))) }
    mutating func encode(_ value: Int8) throws { node.item(.int(value)) }
    mutating func encode(_ value: Int16) throws { node.item(.int(value)) }
    mutating func encode(_ value: Int32) throws { node.item(.int(value)) }
    mutating func encode(_ value: Int64) throws { node.item(.int(value)) }
    mutating func encode(_ value: UInt) throws { node.item(.int(value)) }
    mutating func encode(_ value: UInt8) throws { node.item(.int(value)) }
    mutating func encode(_ value: UInt16) throws { node.item(.int(value)) }
    mutating func encode(_ value: UInt32) throws { node.item(.int(value)) }
    mutating func encode(_ value: UInt64) throws { node.item(.int(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { node.item(try .of(value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = Node()
        node.item(child)
        return NodeEncoder(node: child).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = Node()
        node.item(child)
        return NodeEncoder(node: child).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = Node()
        node.item(child)
        return NodeEncoder(node: child)
    }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: Node
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { node.leaf = .null }
    mutating func encode(_ value: Bool) throws { node.leaf = .bool(value) }
    mutating func encode(_ value: String) throws { node.leaf = .string(value) }
    mutating func encode(_ value: Double) throws { node.leaf = .double(value) }
    mutating func encode(_ value: Float) throws { node.leaf = .double(Double(value)) }
    mutating func encode(_ value: Int) throws { node.leaf = .int(value) }
    mutating func encode(_ value: Int8) throws { node.leaf = Node.int(value).leaf }
    mutating func encode(_ value: Int16) throws { node.leaf = Node.int(value).leaf }
    mutating func encode(_ value: Int32) throws { node.leaf = Node.int(value).leaf }
    mutating func encode(_ value: Int64) throws { node.leaf = Node.int(value).leaf }
    mutating func encode(_ value: UInt) throws { node.leaf = Node.int(value).leaf }
    mutating func encode(_ value: UInt8) throws { node.leaf = Node.int(value).leaf }
    mutating func encode(_ value: UInt16) throws { node.leaf = Node.int(value).leaf }
    mutating func encode(_ value: UInt32) throws { node.leaf = Node.int(value).leaf }
    mutating func encode(_ value: UInt64) throws { node.leaf = Node.int(value).leaf }
    mutating func encode<T: Encodable>(_ value: T) throws { try value.encode(to: NodeEncoder(node: node)) }
}
