import Foundation
import Testing
@testable import Aurum

/// The people generator: deterministic output, a complete truth, and the noise it promises.
@Suite struct PeopleGeneratorTests {
    static let small = PeopleGenerator.generate(records: 20_000, sources: 3, seed: 11)

    /// Byte-identical output for a seed; pinned so that an accidental change of the generator,
    /// which would silently move every accuracy figure measured on it, fails here.
    @Test func outputIsByteIdenticalForASeedAndPinned() throws {
        let dir = TempDir()
        let a = PeopleGenerator.generate(records: 500, sources: 3, seed: 42)
        try PeopleGenerator.generate(records: 500, sources: 3, seed: 42, into: dir.path)
        var all = ""
        for (i, s) in a.sources.enumerated() {
            let text = try #require(dir.read(s.fileName))
            #expect(text == a.csv(i), "\(s.fileName) differs between the file and memory")
            all += text
        }
        #expect(dir.read("truth.csv") == a.truthCSV)
        all += a.truthCSV
        let again = PeopleGenerator.generate(records: 500, sources: 3, seed: 42)
        #expect((0..<3).allSatisfy { again.csv($0) == a.csv($0) } && again.truthCSV == a.truthCSV)
        #expect(String(FNV1a.hash(all), radix: 16) == "8b382458fddbaab4", "golden hash of records 500, sources 3, seed 42")
        let other = PeopleGenerator.generate(records: 500, sources: 3, seed: 43)
        #expect(other.csv(0) != a.csv(0))
    }

    @Test func truthListsEveryRecordOnceWithItsSourceFileAndID() throws {
        let d = Self.small
        #expect(d.truth.count == 20_000)
        #expect(d.rows.map(\.count).reduce(0, +) == 20_000)
        var keys = Set<RecordKey>()
        var k = 0
        for (i, s) in d.sources.enumerated() {
            #expect(s.columns.first == PeopleGenerator.Column(name: "id", attribute: .id))
            #expect(s.fileName.hasSuffix(".csv"))
            var ids = Set<String>()
            for row in d.rows[i] {
                #expect(row.count == s.columns.count)
                #expect(ids.insert(row[0]).inserted, "duplicate id \(row[0]) in \(s.fileName)")
                #expect(d.truth[k] == PeopleGenerator.TruthRecord(source: s.fileName, recordID: row[0], entityID: d.truth[k].entityID))
                keys.insert(RecordKey(source: s.fileName, recordID: row[0]))
                k += 1
            }
        }
        #expect(keys.count == 20_000)
        #expect(Set(d.truth.map(\.entityID)).count == d.entityCount)
    }

    @Test func entitiesHaveDuplicatesWithinAndAcrossSources() {
        let d = Self.small
        var sourcesOf: [String: [String]] = [:]
        for t in d.truth { sourcesOf[t.entityID, default: []].append(t.source) }
        let perEntity = Double(d.truth.count) / Double(sourcesOf.count)
        #expect(perEntity > 1.55 && perEntity < 1.85, "\(perEntity) records per entity")
        let sizes = sourcesOf.values.map(\.count)
        #expect(sizes.max() == 5)
        let singletons = Double(sizes.filter { $0 == 1 }.count) / Double(sizes.count)
        #expect(singletons > 0.55 && singletons < 0.65)
        let within = sourcesOf.values.filter { Set($0).count < $0.count }.count
        let across = sourcesOf.values.filter { Set($0).count > 1 }.count
        #expect(within > 1000 && across > 2000, "within \(within), across \(across)")
        // Every source gets a fair share.
        for r in d.rows { #expect(r.count > 4000) }
    }

    /// Each column's format is recognisable from its content, and the documented noise is there.
    @Test func columnsHaveTheirFormatsAndTheNoiseIsPresent() throws {
        let d = Self.small
        func column(_ s: Int, _ name: String) -> [String] {
            let i = d.sources[s].columns.firstIndex { $0.name == name }!
            return d.rows[s].map { $0[i] }
        }
        func share(_ values: [String], _ pattern: String) -> Double {
            let re = try! NSRegularExpression(pattern: "^(" + pattern + ")$")
            let n = values.filter { re.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }.count
            return Double(n) / Double(values.count)
        }
        #expect(share(column(0, "birth_date"), #"\d{4}-\d\d-\d\d|"#) == 1)
        #expect(share(column(1, "dob"), #"\d\d?/\d\d?/\d{4}|"#) == 1)
        #expect(share(column(2, "date_of_birth"), #"\d\d? [A-Z][a-z]{2} \d{4}|"#) == 1)
        #expect(share(column(0, "phone"), #"\(\d{3}\) \d{3}-\d{4}|\d{3}-\d{3}-\d{4}|"#) == 1)
        #expect(share(column(1, "mobile"), #"\+1 \d{3} \d{3} \d{4}|\+1\d{10}|\d{3} \d{3} \d{4}|"#) == 1)
        #expect(share(column(2, "telephone"), #"\d{3}\.\d{3}\.\d{4}|\d{10}|"#) == 1)
        #expect(share(column(2, "sin"), #"\d{3} \d{3} \d{3}|\d{3}-\d{3}-\d{3}|"#) == 1)
        #expect(share(column(0, "postal_code"), #"[A-Z]\d[A-Z] ?\d[A-Z]\d|"#) == 1)
        #expect(share(column(1, "postcode"), #"[a-zA-Z]\d[a-zA-Z] ?\d[a-zA-Z]\d|"#) == 1)
        #expect(share(column(1, "email_address"), #"[^@ ]+@[^@ ]+\.[a-z]{2,}|[^@ ]+@[^@ ]+\.[A-Z]{2,}|"#) == 1)
        #expect(share(column(0, "gender"), "M|F|") == 1)
        #expect(share(column(2, "sex"), "Male|Female|") == 1)
        // Missing values, formats that differ within a column, case and accents.
        #expect((0.05...0.12).contains(share(column(0, "phone"), "")))
        #expect((0.1...0.3).contains(share(column(0, "phone"), #"\d{3}-\d{3}-\d{4}"#)))
        #expect(share(column(1, "postcode"), #"[a-z0-9]{6}"#) > 0.2)
        #expect(share(column(2, "forename"), #"[^a-z]+"#) > 0.4)
        #expect(column(0, "first_name").contains { $0.contains("é") } && column(0, "first_name").contains("Stephane"))
        #expect(share(column(2, "contact_email"), "") > 0.3)
        // Nicknames, initials and swapped names.
        let given = column(0, "first_name").map { $0.lowercased() }
        #expect(given.filter { Nicknames.canonical[$0] != nil && !PeoplePools.maleGiven.map { $0.lowercased() }.contains($0) }.count > 200)
        #expect(given.filter { $0.count <= 2 && ($0.hasSuffix(".") || $0.count == 1) }.count > 20)
        let familyPool = Set(PeoplePools.family.map { $0.lowercased() })
        let givenPool = Set((PeoplePools.maleGiven + PeoplePools.femaleGiven).map { $0.lowercased() })
        let swapped = given.filter { familyPool.contains($0) && !givenPool.contains($0) }.count
        #expect(swapped > 100 && swapped < 600, "\(swapped) family names in first_name")
    }

    @Test func moreSourcesRepeatTheStylesWithDistinctNames() {
        let names = PeopleGenerator.sources(count: 7).map(\.fileName)
        #expect(names == ["crm_contacts.csv", "webshop_customers.csv", "benefits_register.csv", "loyalty_members.csv",
                          "support_tickets.csv", "crm_contacts_2.csv", "webshop_customers_2.csv"])
        let one = PeopleGenerator.generate(records: 1000, sources: 1, seed: 1)
        #expect(one.rows[0].count == 1000)
        #expect(Set(one.truth.map(\.entityID)).count < 700)
        let none = PeopleGenerator.generate(records: 0, sources: 2, seed: 1)
        #expect(none.truth.isEmpty && none.csv(1) == "id,given_name,surname,email_address,mobile,dob,address_line1,town,postcode\n")
    }

    @Test func nicknameTableMapsNicknamesToCanonicalNames() {
        #expect(Nicknames.canonical.count >= 60)
        #expect(Nicknames.canonical["bill"] == "william")
        #expect(Nicknames.canonical["peggy"] == "margaret")
        #expect(Nicknames.canonical["bob"] == "robert")
        #expect(Nicknames.canonical["liz"] == "elizabeth")
        #expect(Nicknames.canonical["william"] == nil)
        #expect(Nicknames.canonicalNames(of: "chris") == ["chris", "christopher", "christina", "christine"])
        for (k, v) in Nicknames.canonical {
            #expect(k == k.lowercased() && v == v.lowercased() && TextFunctions.stripAccents(k) == k)
        }
    }

    @Test func generatePeopleCommandWritesTheFiles() throws {
        let dir = TempDir()
        let r = try runAurum(["generate", "people", "--records", "300", "--sources", "4", "--seed", "5", "--out", dir.file("p")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("truth.csv (300 records of"))
        let memory = PeopleGenerator.generate(records: 300, sources: 4, seed: 5)
        for (i, s) in memory.sources.enumerated() { #expect(dir.read("p/" + s.fileName) == memory.csv(i)) }
        let bad = try runAurum(["generate", "people", "--sources", "0", "--out", dir.file("q")])
        #expect(bad.status != 0 && bad.stderr.contains("--sources must be 1 or more"))
    }
}
