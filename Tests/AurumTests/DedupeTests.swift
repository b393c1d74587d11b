import Foundation
import Testing
@testable import Aurum

/// Zero-configuration matching on small hand-made files with known duplicates: three files name
/// their columns differently, one writes dates day first, one has only a full name.
@Suite struct DedupeTests {
    static let given = ["James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "Richard", "Barbara",
                        "Joseph", "Susan", "Thomas", "Jessica", "Charles", "Sarah", "Daniel", "Karen", "Matthew", "Nancy",
                        "Anthony", "Lisa", "Mark", "Betty", "Donald", "Sandra", "Steven", "Ashley", "Paul", "Kimberly",
                        "Andrew", "Emily", "Joshua", "Donna", "Kenneth", "Michelle", "Kevin", "Carol", "Brian", "Amanda",
                        "George", "Melissa", "Edward", "Deborah", "Ronald", "Stephanie", "Timothy", "Rebecca", "Jason", "Laura",
                        "Jeffrey", "Helen", "Ryan", "Sharon", "Jacob"]
    static let family = ["Tremblay", "Gagnon", "Roy", "Cote", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin", "Gagne",
                         "Ouellet", "Pelletier", "Belanger", "Levesque", "Bergeron", "Leblanc", "Paquette", "Girard", "Simard", "Boucher",
                         "Caron", "Beaulieu", "Cloutier", "Dube", "Poirier", "Fournier", "Lapointe", "Leclerc", "Lefebvre", "Poulin",
                         "Thibault", "St-Pierre", "Nadeau", "Martin", "Landry", "Martel", "Bedard", "Grenier", "Lessard", "Bernier",
                         "Richard", "Michaud", "Hebert", "Desjardins", "Couture", "Turcotte", "Lachance", "Parent", "Blais", "Gosselin",
                         "Savard", "Proulx", "Beaudoin", "Demers", "Perron"]
    static let cities = ["Toronto", "Montreal", "Ottawa", "Quebec", "Halifax", "Calgary", "Regina", "Victoria"]

    struct Person {
        var given, family, email, phone, postcode, city: String
        var year, month, day: Int
    }

    static func person(_ i: Int) -> Person {
        Person(given: given[i], family: family[(i * 7) % family.count],
               email: "\(given[i].lowercased()).\(family[(i * 7) % family.count].lowercased())\(i)@example.com",
               phone: String(format: "416555%04d", 1000 + i * 37), postcode: "M\(i % 10)V \(i % 9)A\(i % 7)",
               city: cities[i % cities.count], year: 1950 + i, month: i % 12 + 1, day: i % 28 + 1)
    }

    /// `crm.csv`: people 0..<40 and second records of 0, 1, 2 (a nickname, another phone format).
    static func crm() -> String {
        var s = "id,first_name,last_name,birth_date,email,phone,postal_code,city\n"
        func row(_ id: String, _ p: Person, given: String? = nil, phone: String? = nil) {
            let ph = phone ?? "(\(p.phone.prefix(3))) \(p.phone.dropFirst(3).prefix(3))-\(p.phone.suffix(4))"
            s += "\(id),\(given ?? p.given),\(p.family),\(String(format: "%04d-%02d-%02d", p.year, p.month, p.day)),\(p.email),\(ph),\(p.postcode),\(p.city)\n"
        }
        for i in 0..<40 { row(String(format: "A%03d", i + 1), person(i)) }
        row("A041", person(0), given: "Jim", phone: person(0).phone)
        row("A042", person(1), phone: person(1).phone)
        row("A043", person(2), given: "Bob")
        return s
    }

    /// `shop.csv`: people 25..<55, dates day first, e-mails in capitals, other phone and postcode formats.
    static func shop() -> String {
        var s = "id,given,surname,dob,email_address,mobile,zip,town\n"
        for i in 25..<55 {
            let p = person(i)
            s += "\(String(format: "B%02d", i - 24)),\(p.given),\(p.family),\(String(format: "%02d/%02d/%04d", p.day, p.month, p.year)),\(p.email.uppercased()),+1 \(p.phone.prefix(3)) \(p.phone.dropFirst(3).prefix(3)) \(p.phone.suffix(4)),\(p.postcode.replacingOccurrences(of: " ", with: "").lowercased()),\(p.city)\n"
        }
        return s
    }

    /// `tickets.csv`: a full name only ("SMITH, John" or "John Smith"), for people 30..<34 and two others.
    static func tickets() -> String {
        var s = "id,customer_name,email,phone\n"
        for (n, i) in [30, 31, 32, 33, 60, 61].enumerated() {
            let p = i < 55 ? person(i) : Person(given: ["Olivia", "Liam"][i - 60], family: ["Zbyszewski", "Okonkwo"][i - 60],
                                               email: "zz\(i)@example.org", phone: "604555\(i)00", postcode: "", city: "", year: 0, month: 0, day: 0)
            let name = n % 2 == 0 ? "\(p.family.uppercased()), \(p.given)" : "\(p.given) \(p.family)"
            s += "T\(n + 1),\"\(name)\",\(p.email),\(p.phone)\n"
        }
        return s
    }

    /// The true entity of each (file, id): the person index.
    static func truth() -> [String: Int] {
        var t: [String: Int] = [:]
        for i in 0..<40 { t["crm.csv,\(String(format: "A%03d", i + 1))"] = i }
        t["crm.csv,A041"] = 0; t["crm.csv,A042"] = 1; t["crm.csv,A043"] = 2
        for i in 25..<55 { t["shop.csv,\(String(format: "B%02d", i - 24))"] = i }
        for (n, i) in [30, 31, 32, 33, 60, 61].enumerated() { t["tickets.csv,T\(n + 1)"] = i }
        return t
    }

    static func inputs(_ dir: TempDir) -> [String] {
        [dir.write("crm.csv", crm()), dir.write("shop.csv", shop()), dir.write("tickets.csv", tickets())]
    }

    /// clusters.csv as a partition: sets of "file,id" (cluster ids are labels only).
    static func partition(_ csv: String) -> Set<Set<String>> {
        var groups: [String: Set<String>] = [:]
        for line in csv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            groups[f[2], default: []].insert("\(f[0]),\(f[1])")
        }
        return Set(groups.values)
    }

    static func expected(_ t: [String: Int]) -> Set<Set<String>> {
        Set(Dictionary(grouping: t.keys, by: { t[$0]! }).values.map { Set($0) })
    }

    @Test func recognisesTheColumnsOfEachFile() throws {
        let dir = TempDir("dedupe-kinds")
        let r = try ZeroConfig.dedupe(DedupeOptions(files: Self.inputs(dir), outDirectory: dir.file("out"), idColumn: "id"))
        func kinds(_ f: Int) -> [String: String] {
            Dictionary(uniqueKeysWithValues: r.files[f].profiles.compactMap { p in p.kind.map { (p.column, $0.rawValue) } })
        }
        #expect(kinds(0) == ["first_name": "given_name", "last_name": "family_name", "birth_date": "dob", "email": "email",
                             "phone": "phone", "postal_code": "postcode", "city": "city"])
        #expect(kinds(1) == ["given": "given_name", "surname": "family_name", "dob": "dob", "email_address": "email",
                             "mobile": "phone", "zip": "postcode", "town": "city"])
        #expect(kinds(2) == ["customer_name": "full_name", "email": "email", "phone": "phone"])
        #expect(r.files[1].profiles.first { $0.column == "dob" }?.dateOrder == .dayFirst)
        let shop = r.entity.sources.first { $0.source == "shop" }
        #expect(shop?.expressions["dob"] == "parse_date(\"dob\", '%d/%m/%Y')")
        let tickets = r.entity.sources.first { $0.source == "tickets" }
        #expect(tickets?.expressions["given_name"]?.contains("regexp_extract") == true)
        #expect(r.entity.match.blocking.map(\.keys) == [["family_name", "dob"], ["family_name", "given_name", "year(dob)"], ["given_name", "dob"],
                                                         ["email"], ["phone"], ["dob", "postcode"]])
        #expect(r.entity.match.training.emBlocks.map(\.keys) == [["family_name", "year(dob)"], ["given_name", "dob"], ["email"], ["phone"], ["dob", "postcode"]])
    }

    @Test func clustersAreTheKnownDuplicates() throws {
        let dir = TempDir("dedupe-clusters")
        let out = dir.file("out")
        let r = try ZeroConfig.dedupe(DedupeOptions(files: Self.inputs(dir), outDirectory: out, idColumn: "id"))
        let clusters = try String(contentsOfFile: out + "/clusters.csv", encoding: .utf8)
        let lines = clusters.split(separator: "\n").map(String.init)
        #expect(lines.first == "source,record_id,cluster_id")
        #expect(lines.count == 1 + Self.truth().count)
        // Sorted by file, then id.
        let keys = lines.dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
        #expect(keys == Self.truth().keys.sorted())
        #expect(Self.partition(clusters) == Self.expected(Self.truth()))
        #expect(r.clusters == Set(Self.truth().values).count)

        let pairs = try String(contentsOfFile: out + "/pairs.csv", encoding: .utf8)
        #expect(pairs.hasPrefix("source_l,record_id_l,source_r,record_id_r,probability\n"))
        // Every true pair is scored; within a pair the left record sorts first.
        let scored = Set(pairs.split(separator: "\n").dropFirst().map { l -> String in
            let f = l.split(separator: ",").map(String.init)
            #expect(ZeroConfig.recordBefore((f[0], f[1]), (f[2], f[3])))
            return "\(f[0]),\(f[1])|\(f[2]),\(f[3])"
        })
        #expect(scored.contains("crm.csv,A001|crm.csv,A041"))
        #expect(scored.contains("crm.csv,A031|shop.csv,B06"))
        #expect(scored.contains("crm.csv,A031|tickets.csv,T1"))
    }

    @Test func rowNumbersAreTheIdsWithoutAnIdColumn() throws {
        let dir = TempDir("dedupe-rows")
        let out = dir.file("out")
        _ = try ZeroConfig.dedupe(DedupeOptions(files: Self.inputs(dir), outDirectory: out))
        let clusters = try String(contentsOfFile: out + "/clusters.csv", encoding: .utf8)
        let lines = clusters.split(separator: "\n").dropFirst()
        #expect(lines.prefix(3).map { $0.split(separator: ",").prefix(2).joined(separator: ",") } == ["crm.csv,1", "crm.csv,2", "crm.csv,3"])
        #expect(lines.filter { $0.hasPrefix("crm.csv,") }.count == 43)
        // The `id` column is not matched on: the partition is the same with row numbers.
        var t: [String: Int] = [:]
        for (k, v) in Self.truth() {
            let f = k.split(separator: ",")
            let file = String(f[0]), id = String(f[1])
            // A001, B01, T1: the number is the row.
            t["\(file),\(Int(id.dropFirst())!)"] = v
        }
        #expect(Self.partition(clusters) == Self.expected(t))
    }

    @Test func outputIsDeterministic() throws {
        let dir = TempDir("dedupe-determinism")
        let files = Self.inputs(dir)
        _ = try ZeroConfig.dedupe(DedupeOptions(files: files, outDirectory: dir.file("a"), idColumn: "id"))
        _ = try ZeroConfig.dedupe(DedupeOptions(files: files, outDirectory: dir.file("b"), idColumn: "id"))
        for f in ["clusters.csv", "pairs.csv", "model.yaml"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: dir.file("a/" + f)))
            let b = try Data(contentsOf: URL(fileURLWithPath: dir.file("b/" + f)))
            #expect(a == b, "\(f) differs between two runs")
        }
        // Re-running into the same folder replaces the outputs with the same bytes.
        let before = try Data(contentsOf: URL(fileURLWithPath: dir.file("a/clusters.csv")))
        _ = try ZeroConfig.dedupe(DedupeOptions(files: files, outDirectory: dir.file("a"), idColumn: "id"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("a/clusters.csv"))) == before)
    }

    @Test func theModelReRunsToTheSameClusters() throws {
        let dir = TempDir("dedupe-model")
        let out = dir.file("out")
        let r = try ZeroConfig.dedupe(DedupeOptions(files: Self.inputs(dir), outDirectory: out, idColumn: "id"))
        let catalog = try CatalogLoader.load(path: out + "/model.yaml")
        let e = try #require(catalog.entities.first)
        #expect(catalog.warehouse == out + "/aurum.db")
        #expect(e.attributes.map(\.name) == r.entity.attributes.map(\.name))
        #expect(e.attributes.map(\.standardize) == r.entity.attributes.map(\.standardize))
        #expect(e.match.blocking.map(\.keys) == r.entity.match.blocking.map(\.keys))
        #expect(e.match.comparisons.map(\.levels) == r.entity.match.comparisons.map(\.levels))
        #expect(e.match.comparisons.map(\.termFrequency) == r.entity.match.comparisons.map(\.termFrequency))
        #expect(e.match.training.uSamplePairs == r.entity.match.training.uSamplePairs)
        #expect(e.match.training.emBlocks.map(\.keys) == r.entity.match.training.emBlocks.map(\.keys))
        for (a, b) in zip(e.sources, r.entity.sources) {
            #expect(a.source == b.source)
            #expect(a.expressions == b.expressions)
        }
        _ = try Pipeline.run(catalog)
        let w = try Warehouse(path: out + "/aurum.db")
        defer { w.close() }
        let files = ["crm": "crm.csv", "shop": "shop.csv", "tickets": "tickets.csv"]
        var csv = "source,record_id,cluster_id\n"
        for row in try w.db.query("SELECT source, source_key, golden_id FROM xref WHERE entity = 'person' ORDER BY source, source_key") {
            csv += "\(files[row[0].textValue!]!),\(row[1].textValue!),\(row[2].textValue!)\n"
        }
        let clusters = try String(contentsOfFile: out + "/clusters.csv", encoding: .utf8)
        #expect(Self.partition(csv) == Self.partition(clusters))
    }

    @Test func oneFileIsDeduplicated() throws {
        let dir = TempDir("dedupe-one")
        let out = dir.file("out")
        _ = try ZeroConfig.dedupe(DedupeOptions(files: [dir.write("crm.csv", Self.crm())], outDirectory: out, idColumn: "id"))
        let clusters = try String(contentsOfFile: out + "/clusters.csv", encoding: .utf8)
        #expect(Self.partition(clusters) == Self.expected(Self.truth().filter { $0.key.hasPrefix("crm.csv,") }))
    }

    @Test func aFileWithNothingToMatchOnIsNamed() throws {
        let dir = TempDir("dedupe-nothing")
        let bad = dir.write("inventory.csv", "sku,qty,colour\nX1,3,red\nX2,5,blue\n")
        #expect {
            try ZeroConfig.dedupe(DedupeOptions(files: Self.inputs(dir) + [bad], outDirectory: dir.file("out")))
        } throws: { e in
            let d = "\(e)"
            return d.contains("inventory.csv") && d.contains("recognisable")
        }
    }

    @Test func aRepeatedIdColumnIsRefused() throws {
        let dir = TempDir("dedupe-dup-id")
        let f = dir.write("a.csv", "id,first_name,last_name,email\n1,Ann,Lee,ann@x.org\n1,Bob,Ray,bob@x.org\n")
        #expect(throws: AurumError.self) { try ZeroConfig.dedupe(DedupeOptions(files: [f], outDirectory: dir.file("out"), idColumn: "id")) }
    }

    @Test func theCommandLine() throws {
        let dir = TempDir("dedupe-cli")
        let ok = try runAurum(["dedupe"] + Self.inputs(dir) + ["--out", dir.file("out"), "--id-column", "id", "-q"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(dir.read("out/clusters.csv")?.hasPrefix("source,record_id,cluster_id\n") == true)
        let bad = try runAurum(["dedupe", dir.write("inventory.csv", "sku,qty\nX1,3\n"), "--out", dir.file("bad"), "-q"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("inventory.csv"))
    }
}
