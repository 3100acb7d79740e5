import NoexJSON
import NoexRules
import NoexStore

/// Putting back what an engine stored about the schema, one copy for both engines: buckets
/// and queries defined over the wire, rules, facts. The config file stays the source of its
/// own buckets, queries and rules (they win on a name clash); a stored fact wins over the
/// file's initial value (it is newer).
enum StoredSchema {
    /// Defines the stored buckets the store does not have yet, in stored order. `source` names
    /// the file in the error (`database "PATH"`, `"DIR/schema.json"`).
    static func defineBuckets(_ stored: [(name: String, config: JSONObject)], in store: Store, source: String) throws(PersistenceError) {
        for (name, config) in stored where !store.hasBucket(name) {
            do throws(StoreError) {
                try store.defineBucket(name, config: config)
            } catch {
                throw PersistenceError("\(source): stored bucket \"\(name)\" cannot be defined: \(error.message)")
            }
        }
    }

    /// Defines the stored queries the store does not have; a refused one is skipped and reported.
    static func defineQueries(_ stored: [(name: String, config: JSONObject)], in store: Store) -> [String] {
        var problems: [String] = []
        for (name, config) in stored where !store.hasQuery(name) {
            do throws(StoreError) {
                try store.defineQuery(name, config: config)
            } catch {
                problems.append("stored query \"\(name)\" skipped: \(error.message)")
            }
        }
        return problems
    }

    /// Registers the stored rules (`Rule.json` objects); a refused one is skipped and reported.
    static func restoreRules(_ stored: [(id: String, rule: JSONObject)], into engine: RuleEngine) -> [String] {
        var problems: [String] = []
        for (id, saved) in stored {
            do throws(RulesError) {
                try engine.restoreRule(.object(saved))
            } catch {
                problems.append("stored rule \"\(id)\" skipped: \(error.message)")
            }
        }
        return problems
    }

    /// Puts back stored facts (`Fact.json` objects); one that is not a fact is skipped and reported.
    static func restoreFacts(_ stored: [(key: String, fact: JSONObject)], into engine: RuleEngine) -> [String] {
        var problems: [String] = []
        for (key, saved) in stored {
            guard let fact = Fact(saved: .object(saved)) else {
                problems.append("stored fact \"\(key)\" skipped: not a fact")
                continue
            }
            engine.restoreFact(key: key, fact)
        }
        return problems
    }
}
