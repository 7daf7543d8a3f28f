/// An optional value kept out of line: eight bytes in the call until it is set. For the state a few calls ever
/// have (a re-INVITE under way, a reliable 18x unacknowledged), which would otherwise make every established call
/// carry its size (memory per call is a benchmark target, BENCHMARKS.md).
@propertyWrapper
struct OutOfLine<Value> {
    private final class Storage {
        var value: Value

        init(_ value: Value) {
            self.value = value
        }
    }

    private var storage: Storage?

    init(wrappedValue: Value?) {
        storage = wrappedValue.map(Storage.init)
    }

    var wrappedValue: Value? {
        get { storage?.value }
        set {
            guard let newValue else {
                storage = nil
                return
            }
            // Copy on write: a machine copied elsewhere (a test's) keeps its own value.
            if isKnownUniquelyReferenced(&storage), let storage {
                storage.value = newValue
            } else {
                storage = Storage(newValue)
            }
        }
    }
}
