import Foundation
import Testing
@testable import Aurum

/// Matching: catalog checks, blocking budget, scoring by a hand-set model, steward decisions,
/// explain, and the unchanged warehouse after a failed match.
@Suite struct MatchingTests {
    static let crm = """
        id,first_name,last_name,birth_date,email
        C1,William,Smith,1980-02-03,bill@example.com
        C2,Bill,Smith,1980-02-03,
        C3,Maria,Garcia,1975-11-30,maria@example.com
        C4,Mario,Garcia,1975-11-30,mario@example.com
        C5,Anne,Lee,1985-07-04,anne@example.com

        """
    static let shop = """
        cust,given,surname,dob,mail
        S1,Wiliam,Smith,03/02/1980,BILL@EXAMPLE.COM
        S2,Maria,García,30/11/1975,maria@example.com
        S3,Ann,Lee,04/07/1985,ann.lee@example.net

        """

    static func catalog(match: String, extra: String = "") -> String {
        """
        version: 1
        sources:
          - {name: crm, type: csv, path: crm.csv, key: id}
          - {name: shop, type: csv, path: shop.csv, key: cust}
        entities:
          person:
            attributes:
              given_name: [trim, lower, fold_accents, nickname]
              family_name: [trim, lower, fold_accents]
              dob: {type: date}
              email: [email]
            sources:
              crm: {given_name: first_name, family_name: last_name, dob: birth_date, email: email}
              shop: {given_name: given, family_name: surname, dob: "parse_date(dob, '%d/%m/%Y')", email: mail}
            match:
        \(match)
        \(extra)
        """
    }

    static let handSet = """
              blocking: [[family_name]]
              comparisons:
                given_name: {levels: [exact, {jaro_winkler: 0.9}], m: [0.85, 0.1, 0.05], u: [0.02, 0.03, 0.95]}
                dob: {levels: [exact], m: [0.95, 0.05], u: [0.001, 0.999]}
                email: {levels: [exact], m: [0.7, 0.3], u: [0.0001, 0.9999]}
              prior: 0.2
              thresholds: {link: 0.999, review: 0.3}
        """

    func setUp(_ catalogText: String) throws -> TempDir {
        let dir = TempDir("matching")
        try Self.crm.write(toFile: dir.file("crm.csv"), atomically: true, encoding: .utf8)
        try Self.shop.write(toFile: dir.file("shop.csv"), atomically: true, encoding: .utf8)
        try catalogText.write(toFile: dir.file("catalog.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    func xref(_ dir: TempDir) throws -> [String: Int64] {
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        var out: [String: Int64] = [:]
        for r in try w.db.query("SELECT source || ':' || source_key, golden_id FROM xref WHERE entity = 'person'") {
            if case .integer(let g) = r[1] { out[r[0].textValue!] = g }
        }
        return out
    }

    @Test func handSetModelScoresLinksAndReviewBand() throws {
        let dir = try setUp(Self.catalog(match: Self.handSet))
        let outcome = try Pipeline.run(try CatalogLoader.load(path: dir.file("catalog.yaml")))
        #expect(outcome.succeeded)
        let g = try xref(dir)
        // William/Bill Smith (nickname) and Wiliam (typo) are one person; Maria and María are one; Mario is not.
        #expect(g["crm:C1"] == g["crm:C2"])
        #expect(g["crm:C1"] == g["shop:S1"])
        #expect(g["crm:C3"] == g["shop:S2"])
        #expect(g["crm:C4"] != g["crm:C3"])
        // Anne/Ann Lee and Maria/Mario Garcia: same dob, similar name, different e-mail → the review band, not linked.
        #expect(g["crm:C5"] != g["shop:S3"])
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let queue = try Steward.reviewQueue(warehouse: w, entity: "person", limit: 10)
        #expect(queue.map { "\($0.left) \($0.right)" }.contains("crm:C5 shop:S3"))
        // The score is the model's: prior 0.2, given exact-or-JW (ann vs anne JW 0.9417 ≥ 0.9), dob exact, e-mail differs.
        let expected = log2(0.2 / 0.8) + log2(0.1 / 0.03) + log2(0.95 / 0.001) + log2(0.3 / 0.9999)
        let p = try #require(queue.first { $0.left.description == "crm:C5" })
        #expect(abs(p.weight - expected) < 1e-9)
        #expect(abs(p.probability - 1 / (1 + exp2(-expected))) < 1e-12)
    }

    @Test func stewardDecisionsWinOnTheNextRun() throws {
        let dir = try setUp(Self.catalog(match: Self.handSet))
        let catalog = try CatalogLoader.load(path: dir.file("catalog.yaml"))
        _ = try Pipeline.run(catalog)
        let before = try xref(dir)
        #expect(before["crm:C1"] == before["shop:S1"])
        do {
            let w = try Warehouse(path: dir.file("aurum.db"))
            defer { w.close() }
            try Steward.decide(warehouse: w, entity: "person", RecordRef("crm:C5")!, RecordRef("shop:S3")!, .mustLink)
            try Steward.decide(warehouse: w, entity: "person", RecordRef("shop:S1")!, RecordRef("crm:C1")!, .cannotLink)
            try Steward.decide(warehouse: w, entity: "person", RecordRef("shop:S1")!, RecordRef("crm:C2")!, .cannotLink)
            #expect(throws: AurumError.self) {
                try Steward.decide(warehouse: w, entity: "person", RecordRef("crm:C404")!, RecordRef("crm:C1")!, .mustLink)
            }
        }
        _ = try Pipeline.run(catalog)
        let after = try xref(dir)
        #expect(after["crm:C5"] == after["shop:S3"])
        #expect(after["shop:S1"] != after["crm:C1"])
        // The oldest id stays with the larger part of the split cluster.
        #expect(after["crm:C1"] == before["crm:C1"])
        #expect(after["crm:C1"] == after["crm:C2"])
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        // Decided pairs leave the queue; Maria and Mario Garcia are still to be reviewed.
        let queue = try Steward.reviewQueue(warehouse: w, entity: "person", limit: 10).map { "\($0.left) \($0.right)" }
        #expect(queue == ["crm:C3 crm:C4", "crm:C4 shop:S2"], "\(queue)")
    }

    @Test func explainShowsEveryComparisonAndTheTotal() throws {
        let dir = try setUp(Self.catalog(match: Self.handSet))
        let catalog = try CatalogLoader.load(path: dir.file("catalog.yaml"))
        _ = try Pipeline.run(catalog)
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let x = try Explainer.pair(catalog: catalog, warehouse: w, entity: nil, RecordRef("crm:C5")!, RecordRef("shop:S3")!)
        #expect(x.lines.map(\.comparison) == ["given_name", "dob", "email"])
        #expect(x.lines.map(\.level) == ["jaro_winkler >= 0.9", "exact", "else"])
        #expect(abs(x.total - (x.priorWeight + x.lines.reduce(0) { $0 + $1.weight })) < 1e-12)
        #expect(x.status == "review")
        #expect(x.text.contains("email") && x.text.contains("'anne@example.com' vs 'ann.lee@example.net'"))
        let gid = try #require(try xref(dir)["crm:C1"])
        let gx = try Explainer.golden(catalog: catalog, warehouse: w, entity: nil, id: gid, attribute: "email")
        #expect(gx.values.count == 1)
        #expect(gx.values[0].rule == "most_frequent")
        #expect(gx.values[0].value == "bill@example.com")
        #expect(Set(gx.values[0].records.map(\.0.description)) == ["crm:C1", "shop:S1"])
        #expect(gx.members.map(\.description) == ["crm:C1", "crm:C2", "shop:S1"])
    }

    @Test func pairBudgetRefusesWithCountsAndLeavesGoldenStateAlone() throws {
        let dir = try setUp(Self.catalog(match: Self.handSet))
        _ = try Pipeline.run(try CatalogLoader.load(path: dir.file("catalog.yaml")))
        let before = try xref(dir)
        let tight = Self.handSet.replacingOccurrences(of: "blocking: [[family_name]]", with: "blocking: [[family_name], [\"substr(dob, 1, 2)\"]]\n      pair_budget: 10")
        try Self.catalog(match: tight).write(toFile: dir.file("catalog.yaml"), atomically: true, encoding: .utf8)
        let e = try #require(throws: AurumError.self) { try Pipeline.run(try CatalogLoader.load(path: dir.file("catalog.yaml"))) }
        #expect(e.code == .matching)
        #expect(e.description.contains("would produce 35 candidate pairs, over the pair budget of 10"))
        #expect(e.description.contains("substr(dob, 1, 2): 28"))
        #expect(try xref(dir) == before)
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        #expect(try w.db.scalar("SELECT status FROM runs ORDER BY run_id DESC LIMIT 1")?.textValue == "failed")
        #expect(try w.db.scalar("SELECT error FROM run_steps WHERE name = 'match:person' ORDER BY run_id DESC LIMIT 1")?.textValue?.contains("pair budget") == true)
    }

    @Test func catalogErrorsNameThePath() throws {
        let bad = """
                  blocking: [[family_nam]]
                  comparisons:
                    dob: [{date_days: 3}]
                    given_name: [exact, {date_days: 2}]
                    emial: [exact]
                  thresholds: {link: 0.5, review: 0.8}
            """
        let dir = try setUp(Self.catalog(match: bad, extra: "    survivorship: {attributes: {email: {source_priority: [crm, web]}}}"))
        let e = try #require(throws: AurumErrors.self) { try CatalogLoader.load(path: dir.file("catalog.yaml")) }
        let text = e.description
        #expect(text.contains("entities.person.match.comparisons.given_name[1]") && text.contains("level 'date_days' compares dates, but attribute 'given_name' is text"))
        #expect(text.contains("unknown attribute 'emial' (did you mean 'email'?)"))
        #expect(text.contains("the review threshold (0.8) must not be above the link threshold (0.5)"))
        #expect(text.contains("source 'web' does not feed entity 'person'"))
    }

    @Test func unknownColumnInAMappingIsAClearError() throws {
        let dir = try setUp(Self.catalog(match: Self.handSet).replacingOccurrences(of: "email: mail}", with: "email: mial}"))
        let e = try #require(throws: AurumError.self) { try Pipeline.run(try CatalogLoader.load(path: dir.file("catalog.yaml"))) }
        #expect(e.description.contains("entities.person.sources.shop.email: attribute 'email': unknown column 'mial' (did you mean 'mail'?)"))
    }

    @Test func blockingKeyOnAnUnknownAttributeIsAClearError() throws {
        let dir = try setUp(Self.catalog(match: Self.handSet.replacingOccurrences(of: "[[family_name]]", with: "[[surname]]")))
        let e = try #require(throws: AurumError.self) { try Pipeline.run(try CatalogLoader.load(path: dir.file("catalog.yaml"))) }
        #expect(e.description.contains("blocking key 'surname': unknown column 'surname'"))
    }

    @Test func emTrainingLearnsASaneModel() throws {
        // Enough records for EM: the generator's people, 2,000 records in 3 sources.
        let dir = TempDir("matching-em")
        try PeopleGenerator.generate(records: 2000, sources: 3, seed: 5, into: dir.path)
        var text = try String(contentsOfFile: Repo.root + "/Benchmarks/matching/people.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "      training:\n", with: "      training:\n        u_sample_pairs: 100000\n")
        try text.write(toFile: dir.file("people.yaml"), atomically: true, encoding: .utf8)
        let outcome = try Pipeline.run(try CatalogLoader.load(path: dir.file("people.yaml")))
        #expect(outcome.succeeded)
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        let model = try MatchModel(json: JSONText.parse(try #require(try w.db.scalar("SELECT model FROM match_models")?.textValue)))
        for c in model.comparisons {
            // An agreement is evidence for a match, a disagreement against it.
            #expect(c.weights[1] > 0, "\(c.name) exact weight \(c.weights[1])")
            #expect(c.weights.last! <= -1, "\(c.name) else weight \(c.weights.last!)")
        }
        let names = ["crm": "crm_contacts.csv", "webshop": "webshop_customers.csv", "benefits": "benefits_register.csv"]
        var csv = "source,record_id,cluster_id\n"
        for r in try w.db.query("SELECT source, source_key, golden_id FROM xref ORDER BY source, source_key") {
            csv += "\(names[r[0].textValue!]!),\(r[1].textValue!),\(r[2].textValue!)\n"
        }
        try csv.write(toFile: dir.file("clusters.csv"), atomically: true, encoding: .utf8)
        let m = try PairwiseEvaluation.evaluate(truthPath: dir.file("truth.csv"), clustersPath: dir.file("clusters.csv"))
        #expect(m.f1 >= 0.95, "precision \(m.precision) recall \(m.recall) F1 \(m.f1)")
    }

    @Test func emThatDoesNotConvergeStopsTheStepAndWritesNoGoldenState() throws {
        let dir = TempDir("matching-em-stuck")
        try PeopleGenerator.generate(records: 1500, sources: 3, seed: 9, into: dir.path)
        var text = try String(contentsOfFile: Repo.root + "/Benchmarks/matching/people.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "      training:\n", with: "      training:\n        u_sample_pairs: 20000\n        max_iterations: 1\n")
        try text.write(toFile: dir.file("people.yaml"), atomically: true, encoding: .utf8)
        let e = try #require(throws: AurumError.self) { try Pipeline.run(try CatalogLoader.load(path: dir.file("people.yaml"))) }
        #expect(e.code == .matching)
        #expect(e.description.contains("entities.person.match.training: expectation-maximisation did not converge in 1 iterations on training block"))
        let w = try Warehouse(path: dir.file("aurum.db"))
        defer { w.close() }
        #expect(try !w.db.tableExists("golden_person"))
        #expect(try w.db.scalar("SELECT count(*) FROM xref")?.doubleValue == 0)
        #expect(try w.db.scalar("SELECT count(*) FROM match_pairs")?.doubleValue == 0)
        #expect(try w.db.scalar("SELECT status FROM runs ORDER BY run_id DESC LIMIT 1")?.textValue == "failed")
    }
}
