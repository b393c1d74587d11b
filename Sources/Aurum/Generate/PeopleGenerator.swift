import Foundation

/// Deterministic synthetic person records in several source files with a ground truth, for
/// testing and benchmarking entity resolution (`aurum generate people`).
///
/// `records` is the total over all sources. The people are Canadian-flavoured (English and French
/// names with accents, NANP phones, `A1A 1A1` postcodes, 9-digit SINs); given and family names are
/// drawn with a Zipf-like skew from pools of several hundred, plus a long tail of compound
/// surnames, so "Smith" and "John" are common and "Zbyszewski" is rare.
///
/// **Entities.** Each entity has 1–5 records: 1 with probability 0.60, 2: 0.22, 3: 0.10, 4: 0.05,
/// 5: 0.03 (1.69 records per entity on average). An entity's first record goes to a source drawn
/// by the sources' weights (5:4:3:3:2 …); each further one stays in a source the entity already
/// has with probability 0.25 (a within-source duplicate) and otherwise goes to a source it is not
/// yet in, when there is one. Rows are shuffled within each file. Hard non-matches: 7 % of
/// entities are household members of an earlier entity (same address, 70 % the same family name,
/// 60 % the same phone, 15 % the same e-mail, another given name and date of birth), 0.5 % are
/// twins of one (same family name, date of birth, address and phone; another given name) and
/// 0.5 % are a junior/senior (same given and family name and address, born 20–35 years apart).
///
/// **Noise**, per record and field (each record independently, the first one too):
/// - given name: nickname 12 % where the name has one (``Nicknames``), typo 4 % (insert, delete
///   or substitute a keyboard neighbour), transposition 1.5 %, initial only 1 %, missing 1 %;
/// - family name: typo 4 %, transposition 1.5 %, missing 1 %; a woman's later record takes a new
///   (40 % of those hyphenated) surname 3 %;
/// - given and family name swapped 2 %; accents dropped from names, streets and cities per source
///   (20 % crm, 50 % webshop, 60 % loyalty, 0 % benefits, 30 % support); names in capitals 50 % in
///   benefits, in lower case 8 % in webshop;
/// - date of birth: missing 2 % (5 % webshop), day and month swapped 2 % (when the day is ≤ 12),
///   a day off by one 1 %, a wrong year digit 1 %;
/// - e-mail: missing 6 % (40 % in benefits), in capitals or capitalised 10 %, typo 2 %, another
///   address of the same person 8 %;
/// - phone: missing 8 %, a wrong digit 1.5 %, two digits transposed 1 %, another number 5 %, and a
///   second format per source (20–40 % of values);
/// - address: a later record (not the first) comes from the person's new address 15 % (new street,
///   30 % of those in another city, new postcode; half of them with a new phone); street missing 3
///   %, typo 3 %, street type written long/short as the source prefers with 30 % the other way,
///   apartment/unit written in three ways; city missing 2 %, typo 2 %; postcode missing 3 %, a
///   wrong character 1.5 %, spacing and case per source;
/// - gender missing 5 %, wrong 0.5 %; SIN missing 10 %, a wrong or transposed digit 1 %.
///
/// **Sources** (for `sources` > 5 the list repeats with `_2`, `_3` … in the file names), every
/// one with a unique `id` column:
/// 1. `crm_contacts.csv`: `id` (`C0000001`), `first_name`, `last_name`, `birth_date`
///    (`1980-02-03`), `gender` (`M`/`F`), `email`, `phone` (`(416) 555-0123`, 20 %
///    `416-555-0123`), `street`, `city`, `postal_code` (`M5V 3L9`, 15 % `M5V3L9`).
/// 2. `webshop_customers.csv`: `id` (`100001`), `given_name`, `surname`, `email_address`,
///    `mobile` (`+1 416 555 0123`, 25 % `+14165550123`, 15 % `416 555 0123`), `dob`
///    (`03/02/1980`, day first; 10 % unpadded `3/2/1980`), `address_line1`, `town`, `postcode`
///    (`m5v3l9`, `M5V3L9`, `m5v 3l9` or `M5V 3L9`).
/// 3. `benefits_register.csv`: `id` (`BR000001`), `family_name`, `forename`, `date_of_birth`
///    (`3 Feb 1980`), `sex` (`Male`/`Female`), `sin` (`046 454 286`, 30 % `046-454-286`),
///    `telephone` (`416.555.0123`, 30 % `4165550123`), `street_address`, `city`, `postal`
///    (`M5V3L9`, 20 % `M5V 3L9`), `contact_email`.
/// 4. `loyalty_members.csv`: `id` (`L0000001`), `fname`, `lname`, `birthday` (`19800203`),
///    `email`, `phone_number` (`4165550123`, 30 % `1-416-555-0123`), `zip`, `city`.
/// 5. `support_tickets.csv`: `id` (`T-1`), `customer_name` (`John Smith`, 15 % `SMITH, John`,
///    15 % `Smith, John`), `email`, `phone` (`(416) 555-0123`), `city`.
///
/// The truth lists every record once: `source` (the file name with its extension), `record_id`
/// (its `id`), `entity_id`. Output is a function of (`records`, `sources`, `seed`) only.
public enum PeopleGenerator {
    /// What a column holds.
    public enum Attribute: String, Sendable, CaseIterable {
        case id, givenName = "given_name", familyName = "family_name", fullName = "full_name"
        case birthDate = "birth_date", gender, email, phone, street, city, postcode
        case nationalID = "national_id"
    }

    public struct Column: Sendable, Equatable {
        public let name: String
        public let attribute: Attribute
    }

    /// One source file: its name and columns.
    public struct Source: Sendable {
        public let fileName: String
        public let columns: [Column]
        fileprivate let style: Style
    }

    /// A generated data set in memory.
    public struct Dataset: Sendable {
        public var sources: [Source]
        /// Rows of each source, in file order, fields in column order.
        public var rows: [[[String]]]
        public var truth: [TruthRecord]
        public var entityCount: Int

        /// The CSV text of source `i`, byte for byte what ``generate(records:sources:seed:into:)`` writes.
        public func csv(_ i: Int) -> String {
            var s = sources[i].columns.map(\.name).joined(separator: ",") + "\n"
            for r in rows[i] { s += PeopleGenerator.csvLine(r) }
            return s
        }

        /// The truth as CSV text.
        public var truthCSV: String {
            var s = "source,record_id,entity_id\n"
            for t in truth { s += PeopleGenerator.csvLine([t.source, t.recordID, t.entityID]) }
            return s
        }
    }

    public struct TruthRecord: Sendable, Equatable {
        public let source: String
        public let recordID: String
        public let entityID: String
    }

    /// What ``generate(records:sources:seed:into:)`` wrote.
    public struct Summary: Sendable {
        public var files: [String]
        public var recordsPerSource: [Int]
        public var entityCount: Int
        public var truthPath: String
    }

    /// The sources a run with `count` sources writes.
    public static func sources(count: Int) -> [Source] {
        precondition(count >= 1, "at least one source")
        return (0..<count).map { i in
            let base = styles[i % styles.count]
            let round = i / styles.count
            guard round > 0 else { return Source(fileName: base.fileName, columns: base.columns, style: base) }
            var s = base
            s.fileName = base.fileName.replacingOccurrences(of: ".csv", with: "_\(round + 1).csv")
            return Source(fileName: s.fileName, columns: s.columns, style: s)
        }
    }

    /// Generates the data set in memory (tests, small sets).
    public static func generate(records: Int, sources count: Int, seed: UInt64) -> Dataset {
        let srcs = sources(count: count)
        var rows = [[[String]]](repeating: [], count: count)
        var truth: [TruthRecord] = []
        truth.reserveCapacity(records)
        let plan = Plan(records: records, sources: srcs, seed: seed)
        plan.emit { s, fields, entity in
            rows[s].append(fields)
            truth.append(TruthRecord(source: srcs[s].fileName, recordID: fields[0], entityID: entity))
        }
        return Dataset(sources: srcs, rows: rows, truth: truth, entityCount: plan.entityCount)
    }

    /// Writes `DIR/<source>.csv` for each source and `DIR/truth.csv` (creating `DIR`).
    @discardableResult
    public static func generate(records: Int, sources count: Int, seed: UInt64, into dir: String) throws -> Summary {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw AurumError(.output, "cannot create the folder: \(error.localizedDescription)", at: dir)
        }
        let srcs = sources(count: count)
        var sinks: [FileSink] = []
        for s in srcs {
            let sink = try FileSink(path: (dir as NSString).appendingPathComponent(s.fileName))
            try sink.write(s.columns.map(\.name).joined(separator: ",") + "\n")
            sinks.append(sink)
        }
        let truthPath = (dir as NSString).appendingPathComponent("truth.csv")
        let truth = try FileSink(path: truthPath)
        try truth.write("source,record_id,entity_id\n")
        var counts = [Int](repeating: 0, count: count)
        let plan = Plan(records: records, sources: srcs, seed: seed)
        var line: [UInt8] = []
        try plan.emit { s, fields, entity in
            line.removeAll(keepingCapacity: true)
            appendCSVLine(fields, to: &line)
            try sinks[s].write(line)
            line.removeAll(keepingCapacity: true)
            appendCSVLine([srcs[s].fileName, fields[0], entity], to: &line)
            try truth.write(line)
            counts[s] += 1
        }
        for s in sinks { try s.close() }
        try truth.close()
        return Summary(files: srcs.map { (dir as NSString).appendingPathComponent($0.fileName) }, recordsPerSource: counts,
                       entityCount: plan.entityCount, truthPath: truthPath)
    }

    static func csvLine(_ fields: [String]) -> String {
        var line: [UInt8] = []
        appendCSVLine(fields, to: &line)
        return String(decoding: line, as: UTF8.self)
    }

    /// Appends one CSV record; quotes a field only when it holds a comma, quote or line break.
    static func appendCSVLine(_ fields: [String], to out: inout [UInt8]) {
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            let u = f.utf8
            if u.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) {
                out.append(UInt8(ascii: "\""))
                for b in u {
                    if b == UInt8(ascii: "\"") { out.append(b) }
                    out.append(b)
                }
                out.append(UInt8(ascii: "\""))
            } else {
                out.append(contentsOf: u)
            }
        }
        out.append(10)
    }
}

// MARK: - Source styles

private enum DateStyle { case iso, dayFirstSlash, dayMonthName, compact }
private enum PhoneStyle { case parenDash, dashed, dotted, plusSpaced, plusCompact, spaced, digits, oneDashed }
private enum PostcodeStyle { case spacedUpper, compactUpper, compactLower, spacedLower }
private enum GenderStyle { case letter, word }
private enum NationalIDStyle { case spaced, dashed }

/// How one source writes its values, and how noisy it is beyond the common rates.
private struct Style: Sendable {
    var fileName: String
    var columns: [PeopleGenerator.Column]
    var idPrefix: String
    var idStart: Int
    var idDigits: Int
    var date: DateStyle
    var unpaddedDate = 0.0
    var phones: [(PhoneStyle, Double)]
    var postcodes: [(PostcodeStyle, Double)]
    var gender: GenderStyle = .letter
    var nationalIDs: [(NationalIDStyle, Double)] = [(.spaced, 1)]
    var upperNames = 0.0
    var lowerNames = 0.0
    var asciiFold = 0.0
    var shortStreetType = 0.5
    var emailMissing = 0.06
    var dobMissing = 0.02
    var weight: Int
}

private func col(_ name: String, _ a: PeopleGenerator.Attribute) -> PeopleGenerator.Column {
    PeopleGenerator.Column(name: name, attribute: a)
}

private let styles: [Style] = [
    Style(fileName: "crm_contacts.csv",
          columns: [col("id", .id), col("first_name", .givenName), col("last_name", .familyName), col("birth_date", .birthDate),
                    col("gender", .gender), col("email", .email), col("phone", .phone), col("street", .street),
                    col("city", .city), col("postal_code", .postcode)],
          idPrefix: "C", idStart: 1, idDigits: 7, date: .iso,
          phones: [(.parenDash, 0.8), (.dashed, 0.2)], postcodes: [(.spacedUpper, 0.85), (.compactUpper, 0.15)],
          asciiFold: 0.2, shortStreetType: 0.2, weight: 5),
    Style(fileName: "webshop_customers.csv",
          columns: [col("id", .id), col("given_name", .givenName), col("surname", .familyName), col("email_address", .email),
                    col("mobile", .phone), col("dob", .birthDate), col("address_line1", .street), col("town", .city),
                    col("postcode", .postcode)],
          idPrefix: "", idStart: 100_001, idDigits: 0, date: .dayFirstSlash, unpaddedDate: 0.1,
          phones: [(.plusSpaced, 0.6), (.plusCompact, 0.25), (.spaced, 0.15)],
          postcodes: [(.compactLower, 0.3), (.compactUpper, 0.3), (.spacedLower, 0.2), (.spacedUpper, 0.2)],
          lowerNames: 0.08, asciiFold: 0.5, shortStreetType: 0.8, emailMissing: 0.02, dobMissing: 0.05, weight: 4),
    Style(fileName: "benefits_register.csv",
          columns: [col("id", .id), col("family_name", .familyName), col("forename", .givenName), col("date_of_birth", .birthDate),
                    col("sex", .gender), col("sin", .nationalID), col("telephone", .phone), col("street_address", .street),
                    col("city", .city), col("postal", .postcode), col("contact_email", .email)],
          idPrefix: "BR", idStart: 1, idDigits: 6, date: .dayMonthName,
          phones: [(.dotted, 0.7), (.digits, 0.3)], postcodes: [(.compactUpper, 0.8), (.spacedUpper, 0.2)],
          gender: .word, nationalIDs: [(.spaced, 0.7), (.dashed, 0.3)], upperNames: 0.5, shortStreetType: 0.5,
          emailMissing: 0.4, weight: 3),
    Style(fileName: "loyalty_members.csv",
          columns: [col("id", .id), col("fname", .givenName), col("lname", .familyName), col("birthday", .birthDate),
                    col("email", .email), col("phone_number", .phone), col("zip", .postcode), col("city", .city)],
          idPrefix: "L", idStart: 1, idDigits: 7, date: .compact,
          phones: [(.digits, 0.7), (.oneDashed, 0.3)], postcodes: [(.spacedUpper, 0.5), (.compactLower, 0.5)],
          asciiFold: 0.6, weight: 3),
    Style(fileName: "support_tickets.csv",
          columns: [col("id", .id), col("customer_name", .fullName), col("email", .email), col("phone", .phone), col("city", .city)],
          idPrefix: "T-", idStart: 1, idDigits: 0, date: .iso,
          phones: [(.parenDash, 1)], postcodes: [(.spacedUpper, 1)], asciiFold: 0.3, emailMissing: 0.03, weight: 2),
]

// MARK: - Pools with skewed frequencies

/// Draws from a list with weight 1/(rank + offset): a Zipf-like skew with a tunable head.
private struct Zipf: Sendable {
    let values: [String]
    let cumulative: [Double]

    init(_ list: [String], offset: Double) {
        var seen = Set<String>()
        values = list.filter { seen.insert($0).inserted }
        var c: [Double] = []
        var total = 0.0
        for r in values.indices {
            total += 1 / (Double(r) + offset)
            c.append(total)
        }
        cumulative = c.map { $0 / total }
    }

    func draw(_ r: inout SplitMix64) -> String {
        let u = r.unit()
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return values[lo]
    }
}

private let maleNames = Zipf(PeoplePools.maleGiven, offset: 5)
private let femaleNames = Zipf(PeoplePools.femaleGiven, offset: 5)
private let familyNames = Zipf(PeoplePools.family, offset: 10)
private let streetNames = Zipf(PeoplePools.streetNames, offset: 8)
private let emailDomains = Zipf(PeoplePools.emailDomains, offset: 1)
/// Nicknames by the pools' spelling of a given name (`Stéphane`), so records need no folding.
private let poolNicknames: [String: [String]] = {
    var m: [String: [String]] = [:]
    for n in PeoplePools.maleGiven + PeoplePools.femaleGiven {
        if let nicks = Nicknames.nicknames[TextFunctions.stripAccents(n).lowercased()] { m[n] = nicks }
    }
    return m
}()
/// E-mail spelling of the pools' names (`Jean-François` → `jeanfrancois`).
private let poolASCII: [String: String] = {
    var m: [String: String] = [:]
    for n in PeoplePools.maleGiven + PeoplePools.femaleGiven + PeoplePools.family { m[n] = PersonFactory.foldASCII(n) }
    return m
}()
private let cityCumulative: [Int] = {
    var t = 0
    return PeoplePools.cities.map { t += $0.weight; return t }
}()

/// The long tail: compound surnames most people do not share.
private let surnameHeads = ["Ash", "Black", "Brad", "Cal", "Dun", "Fair", "Good", "Hart", "Kirk", "Lang", "Mor", "Nor",
                            "Pen", "Ray", "Stan", "Thorn", "Wex", "Bel", "Mont", "Val", "Ber", "Tal", "Hol", "Cros",
                            "Lind", "Roth", "Stras", "Wil", "Har", "Gal"]
private let surnameTails = ["ford", "ley", "ton", "wood", "field", "by", "more", "well", "man", "son", "court", "ville",
                            "eau", "ier", "ault", "ski", "enko", "berg", "stein", "ham", "worth", "dale", "mann", "ovic"]

// MARK: - People

private struct Address {
    var number: Int
    var street: String
    /// French street, written `rue …`.
    var rue: Bool
    var streetType: Int
    var unit: Int?
    var city: Int
    var postcode: String
}

private struct Person {
    var female: Bool
    var given: String
    var family: String
    var year: Int, month: Int, day: Int
    var email: String
    var altEmail: String
    var phone: String
    var altPhone: String
    var home: Address
    var moved: Address
    var sin: String
}

private enum Relation: UInt8 { case none, household, twin, junior }

/// Who the entities are, how many records each has and where they go; the content of each record
/// is derived on demand from (seed, entity, record) so generation streams.
private struct Plan {
    let seed: UInt64
    let sources: [PeopleGenerator.Source]
    var entityCount = 0
    var relativeOf: [Int32] = []
    var relation: [Relation] = []
    /// Per source, its records in file order as (entity, record number within the entity).
    var order: [[(entity: Int32, dup: UInt8)]]

    init(records: Int, sources: [PeopleGenerator.Source], seed: UInt64) {
        self.seed = seed
        self.sources = sources
        order = Array(repeating: [], count: sources.count)
        var r = SplitMix64(seed: seed, stream: 0, salt: 0x504C_414E)
        let weights = sources.map(\.style.weight)
        func weightedSource(_ r: inout SplitMix64, excluding used: [Int]) -> Int {
            let allowed = (0..<sources.count).filter { !used.contains($0) }
            let w = allowed.map { weights[$0] }
            var x = r.int(w.reduce(0, +))
            for (k, s) in allowed.enumerated() {
                if x < w[k] { return s }
                x -= w[k]
            }
            return allowed[allowed.count - 1]
        }
        var total = 0
        var e = 0
        while total < records {
            let u = r.unit()
            var size = u < 0.60 ? 1 : u < 0.82 ? 2 : u < 0.92 ? 3 : u < 0.97 ? 4 : 5
            size = min(size, records - total)
            let v = r.unit()
            if e > 0 && v < 0.08 {
                relativeOf.append(Int32(r.int(e)))
                relation.append(v < 0.07 ? .household : v < 0.075 ? .twin : .junior)
            } else {
                relativeOf.append(-1)
                relation.append(.none)
            }
            var used: [Int] = []
            for j in 0..<size {
                let s: Int
                if j == 0 {
                    s = weightedSource(&r, excluding: [])
                } else if r.chance(0.25) || used.count == sources.count {
                    s = used[r.int(used.count)]
                } else {
                    s = weightedSource(&r, excluding: used)
                }
                if !used.contains(s) { used.append(s) }
                order[s].append((Int32(e), UInt8(j)))
            }
            total += size
            e += 1
        }
        entityCount = e
        for s in order.indices {
            var a = order[s]
            if a.count > 1 {
                for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, r.int(i + 1)) }
            }
            order[s] = a
        }
    }

    func emit(_ body: (Int, [String], String) throws -> Void) rethrows {
        for (s, list) in order.enumerated() {
            let style = sources[s].style
            for (pos, item) in list.enumerated() {
                let e = Int(item.entity)
                let p = person(e)
                var r = SplitMix64(seed: seed, stream: UInt64(e) << 8 | UInt64(item.dup), salt: 0x5245_434F_5244)
                var fields = RecordNoise.fields(of: p, dup: Int(item.dup), style: style, &r)
                fields[0] = style.idPrefix + pad(style.idStart + pos, style.idDigits)
                try body(s, fields, String(e + 1))
            }
        }
    }

    func person(_ e: Int) -> Person {
        var r = SplitMix64(seed: seed, stream: UInt64(e), salt: 0x5045_5253_4F4E)
        var p = PersonFactory.random(&r)
        let rel = relation[e]
        guard rel != .none else { return p }
        let base = person(Int(relativeOf[e]))
        p.home = base.home
        var sharedEmail = false
        switch rel {
        case .household:
            if r.chance(0.7) { p.family = base.family }
            if r.chance(0.6) { p.phone = base.phone }
            sharedEmail = r.chance(0.15)
        case .twin:
            p.family = base.family
            (p.year, p.month, p.day) = (base.year, base.month, base.day)
            p.phone = base.phone
            if r.chance(0.5) { p.female = base.female }
            while p.given == base.given { p.given = (p.female ? femaleNames : maleNames).draw(&r) }
        case .junior:
            p.female = base.female
            p.given = base.given
            p.family = base.family
            let gap = r.int(20...35)
            p.year = base.year + (base.year + gap <= 2006 ? gap : -gap)
            if r.chance(0.6) { p.phone = base.phone }
        case .none:
            break
        }
        if sharedEmail {
            p.email = base.email
        } else {
            p.email = PersonFactory.email(given: p.given, family: p.family, year: p.year, &r)
            p.altEmail = PersonFactory.email(given: p.given, family: p.family, year: p.year, &r)
        }
        return p
    }
}

private enum PersonFactory {
    static func random(_ r: inout SplitMix64) -> Person {
        let female = r.chance(0.5)
        let given = (female ? femaleNames : maleNames).draw(&r)
        let family = r.chance(0.15) ? r.pick(surnameHeads) + r.pick(surnameTails) : familyNames.draw(&r)
        let year = 1940 + r.int(66)
        let month = 1 + r.int(12)
        let day = 1 + r.int(daysIn(month, year))
        let home = address(&r, city: nil)
        let moved = address(&r, city: r.chance(0.7) ? home.city : nil)
        return Person(female: female, given: given, family: family, year: year, month: month, day: day,
                      email: email(given: given, family: family, year: year, &r),
                      altEmail: email(given: given, family: family, year: year, &r),
                      phone: phone(city: home.city, &r), altPhone: phone(city: moved.city, &r),
                      home: home, moved: moved, sin: sin(&r))
    }

    /// Lower-case ASCII letters only (`Jean-François` → `jeanfrancois`), for e-mail user names.
    static func foldASCII(_ s: String) -> String {
        String(decoding: TextFunctions.stripAccents(s).lowercased().utf8.filter { $0 >= 97 && $0 <= 122 }, as: UTF8.self)
    }

    static func ascii(_ s: String) -> String { poolASCII[s] ?? foldASCII(s) }

    static func email(given: String, family: String, year: Int, _ r: inout SplitMix64) -> String {
        let g = ascii(given), f = ascii(family)
        var local: String
        switch r.int(9) {
        case 0, 1: local = g + "." + f
        case 2: local = g + f
        case 3: local = String(g.prefix(1)) + f
        case 4: local = String(g.prefix(1)) + "." + f
        case 5: local = g + "_" + f
        case 6: local = f + "." + g
        case 7: local = g + pad(year % 100, 2)
        default: local = g + "." + f.prefix(1)
        }
        if r.chance(0.55) { local += String(r.int(1...(r.chance(0.5) ? 99 : 9999))) }
        return local + "@" + emailDomains.draw(&r)
    }

    static func phone(city: Int, _ r: inout SplitMix64) -> String {
        let area = r.pick(PeoplePools.cities[city].areaCodes)
        return String(area) + String(r.int(200...999)) + pad(r.int(10000), 4)
    }

    static let postLetters = Array("ABCEGHJKLMNPRSTVWXYZ")

    static func address(_ r: inout SplitMix64, city fixed: Int?) -> Address {
        let city: Int
        if let fixed {
            city = fixed
        } else {
            let x = r.int(cityCumulative[cityCumulative.count - 1])
            city = cityCumulative.firstIndex { x < $0 }!
        }
        let c = PeoplePools.cities[city]
        let french = "GHJ".contains(c.postLetter) && r.chance(0.6)
        let u = r.unit()
        let number = 1 + Int(u * u * 4999)
        var pc = String(c.postLetter)
        pc += String(r.int(10)) + String(r.pick(postLetters)) + " " + String(r.int(10)) + String(r.pick(postLetters)) + String(r.int(10))
        return Address(number: number, street: french ? r.pick(PeoplePools.rues) : streetNames.draw(&r), rue: french,
                       streetType: r.int(PeoplePools.streetTypes.count) / (r.chance(0.5) ? 1 : 3),
                       unit: r.chance(0.15) ? r.int(1...40) * (r.chance(0.3) ? 100 : 1) + r.int(0...9) : nil,
                       city: city, postcode: pc)
    }

    /// A 9-digit social insurance number with a valid Luhn check digit.
    static func sin(_ r: inout SplitMix64) -> String {
        var d = [1 + r.int(7)]
        for _ in 0..<7 { d.append(r.int(10)) }
        var sum = 0
        for (i, x) in d.enumerated() {
            let v = i % 2 == 1 ? x * 2 : x
            sum += v > 9 ? v - 9 : v
        }
        d.append((10 - sum % 10) % 10)
        return d.map(String.init).joined()
    }
}

private func daysIn(_ month: Int, _ year: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// `n` in decimal, zero-padded to `width` digits.
private func pad(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

// MARK: - Records

private enum RecordNoise {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func fields(of p: Person, dup: Int, style: Style, _ r: inout SplitMix64) -> [String] {
        let moved = dup > 0 && r.chance(0.15)
        let addr = moved ? p.moved : p.home
        let fold = r.chance(style.asciiFold)
        let upper = r.chance(style.upperNames)
        let lower = !upper && r.chance(style.lowerNames)

        // Names.
        var given = p.given
        if let nicks = poolNicknames[given], r.chance(0.12) {
            let n = r.pick(nicks)
            given = n.count <= 2 ? n.uppercased() : n.prefix(1).uppercased() + n.dropFirst()
        }
        given = nameNoise(given, &r)
        if r.chance(0.01) { given = String(given.prefix(1)) + (r.chance(0.5) ? "." : "") }
        if r.chance(0.01) { given = "" }
        var family = p.family
        if p.female && dup > 0 && r.chance(0.03) {
            let new = familyNames.draw(&r)
            family = r.chance(0.4) ? family + "-" + new : new
        }
        family = nameNoise(family, &r)
        if r.chance(0.01) { family = "" }
        if r.chance(0.02) { swap(&given, &family) }
        func cased(_ s: String) -> String {
            var s = fold ? TextFunctions.stripAccents(s) : s
            if upper { s = s.uppercased() } else if lower { s = s.lowercased() }
            return s
        }
        given = cased(given)
        family = cased(family)

        var out: [String] = []
        out.reserveCapacity(style.columns.count)
        for c in style.columns {
            switch c.attribute {
            case .id: out.append("")
            case .givenName: out.append(given)
            case .familyName: out.append(family)
            case .fullName:
                if given.isEmpty || family.isEmpty { out.append(given + family) } else {
                    let u = r.unit()
                    out.append(u < 0.7 ? given + " " + family : u < 0.85 ? family.uppercased() + ", " + given : family + ", " + given)
                }
            case .birthDate: out.append(date(p, style, &r))
            case .gender:
                if r.chance(0.05) { out.append(""); continue }
                let f = r.chance(0.005) ? !p.female : p.female
                switch style.gender {
                case .letter: out.append(f ? "F" : "M")
                case .word: out.append(f ? "Female" : "Male")
                }
            case .email: out.append(email(p, style, &r))
            case .phone: out.append(phone(moved && r.chance(0.5) ? p.altPhone : p.phone, style, &r))
            case .street: out.append(street(addr, style, fold: fold, &r))
            case .city:
                if r.chance(0.02) { out.append(""); continue }
                var c = PeoplePools.cities[addr.city].name
                if r.chance(0.02) { c = typo(c, &r) }
                if fold { c = TextFunctions.stripAccents(c) }
                if upper { c = c.uppercased() }
                out.append(c)
            case .postcode: out.append(postcode(addr.postcode, style, &r))
            case .nationalID: out.append(nationalID(p.sin, style, &r))
            }
        }
        return out
    }

    static func nameNoise(_ s: String, _ r: inout SplitMix64) -> String {
        var s = s
        if r.chance(0.04) { s = typo(s, &r) }
        if r.chance(0.015) { s = transpose(s, &r) }
        return s
    }

    static func date(_ p: Person, _ style: Style, _ r: inout SplitMix64) -> String {
        if r.chance(style.dobMissing) { return "" }
        var (y, m, d) = (p.year, p.month, p.day)
        if d <= 12 && d != m && r.chance(0.02) { swap(&d, &m) }
        if r.chance(0.01) { d = d == 1 ? 2 : d - 1 }
        if r.chance(0.01) { y = r.chance(0.5) ? (y / 10) * 10 + r.int(10) : y + (r.chance(0.5) ? 1 : -1) }
        switch style.date {
        case .iso: return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
        case .dayFirstSlash:
            return r.chance(style.unpaddedDate) ? String(d) + "/" + String(m) + "/" + String(y) : pad(d, 2) + "/" + pad(m, 2) + "/" + pad(y, 4)
        case .dayMonthName: return String(d) + " " + months[m - 1] + " " + String(y)
        case .compact: return pad(y, 4) + pad(m, 2) + pad(d, 2)
        }
    }

    static func email(_ p: Person, _ style: Style, _ r: inout SplitMix64) -> String {
        if r.chance(style.emailMissing) { return "" }
        var e = r.chance(0.08) ? p.altEmail : p.email
        if r.chance(0.02) {
            let at = e.firstIndex(of: "@")!
            e = typo(String(e[..<at]), &r) + e[at...]
        }
        if r.chance(0.10) { e = r.chance(0.5) ? e.uppercased() : e.prefix(1).uppercased() + e.dropFirst() }
        return e
    }

    static func pickStyle<T>(_ options: [(T, Double)], _ r: inout SplitMix64) -> T {
        var u = r.unit()
        for (s, w) in options {
            if u < w { return s }
            u -= w
        }
        return options[options.count - 1].0
    }

    static func phone(_ digits: String, _ style: Style, _ r: inout SplitMix64) -> String {
        if r.chance(0.08) { return "" }
        var d = Array(digits.utf8)
        if r.chance(0.05) {
            // Another number of the same area (a new mobile).
            for i in 3..<10 { d[i] = UInt8(48 + r.int(i == 3 ? 2...9 : 0...9)) }
        }
        if r.chance(0.015) { d[3 + r.int(7)] = UInt8(48 + r.int(10)) }
        if r.chance(0.01) { let i = 3 + r.int(6); d.swapAt(i, i + 1) }
        let a = String(decoding: d[0..<3], as: UTF8.self), x = String(decoding: d[3..<6], as: UTF8.self)
        let l = String(decoding: d[6..<10], as: UTF8.self)
        switch pickStyle(style.phones, &r) {
        case .parenDash: return "(\(a)) \(x)-\(l)"
        case .dashed: return "\(a)-\(x)-\(l)"
        case .dotted: return "\(a).\(x).\(l)"
        case .plusSpaced: return "+1 \(a) \(x) \(l)"
        case .plusCompact: return "+1\(a)\(x)\(l)"
        case .spaced: return "\(a) \(x) \(l)"
        case .digits: return a + x + l
        case .oneDashed: return "1-\(a)-\(x)-\(l)"
        }
    }

    static func street(_ a: Address, _ style: Style, fold: Bool, _ r: inout SplitMix64) -> String {
        if r.chance(0.03) { return "" }
        var name: String
        if a.rue {
            name = (r.chance(0.8) ? "rue " : "Rue ") + a.street
            if fold { name = TextFunctions.stripAccents(name) }
            name = String(a.number) + " " + name
        } else {
            let t = PeoplePools.streetTypes[a.streetType]
            let short = r.chance(0.3) ? !(style.shortStreetType >= 0.5) : r.chance(style.shortStreetType)
            name = String(a.number) + " " + a.street + " " + (short ? t.short : t.long)
        }
        if r.chance(0.03) { name = typo(name, &r) }
        if let unit = a.unit {
            switch r.int(3) {
            case 0: name = "\(unit)-" + name
            case 1: name += ", Apt \(unit)"
            default: name += " Unit \(unit)"
            }
        }
        return name
    }

    static func postcode(_ pc: String, _ style: Style, _ r: inout SplitMix64) -> String {
        if r.chance(0.03) { return "" }
        var c = Array(pc)
        if r.chance(0.015) {
            let i = [1, 2, 4, 5, 6][r.int(5)]
            c[i] = c[i].isNumber ? Character(String(r.int(10))) : r.pick(PersonFactory.postLetters)
        }
        let spaced = String(c)
        let compact = String(decoding: spaced.utf8.filter { $0 != 32 }, as: UTF8.self)
        switch pickStyle(style.postcodes, &r) {
        case .spacedUpper: return spaced
        case .compactUpper: return compact
        case .compactLower: return compact.lowercased()
        case .spacedLower: return spaced.lowercased()
        }
    }

    static func nationalID(_ sin: String, _ style: Style, _ r: inout SplitMix64) -> String {
        if r.chance(0.10) { return "" }
        var d = Array(sin)
        if r.chance(0.01) {
            let i = r.int(8)
            if r.chance(0.5) { d.swapAt(i, i + 1) } else { d[i] = Character(String(r.int(10))) }
        }
        let sep = pickStyle(style.nationalIDs, &r) == .spaced ? " " : "-"
        return String(d[0..<3]) + sep + String(d[3..<6]) + sep + String(d[6..<9])
    }

    static let keyboard: [Character: String] = [
        "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij", "i": "uok", "o": "ipl",
        "p": "ol", "a": "qsz", "s": "adwx", "d": "sfec", "f": "dgrv", "g": "fhtb", "h": "gjyn", "j": "hkum",
        "k": "jlim", "l": "kop", "z": "asx", "x": "zsdc", "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
    ]

    static func neighbour(_ ch: Character, _ r: inout SplitMix64) -> Character {
        let lower = Character(ch.lowercased())
        let options = keyboard[lower] ?? "aeinorst"
        let n = options[options.index(options.startIndex, offsetBy: r.int(options.count))]
        return ch.isUppercase ? Character(n.uppercased()) : n
    }

    /// One insertion, deletion or substitution of a keyboard neighbour; the first letter only one
    /// time in ten (people rarely get the first letter wrong).
    static func typo(_ s: String, _ r: inout SplitMix64) -> String {
        var a = Array(s)
        guard a.count >= 3 else { return s }
        let i = r.chance(0.9) ? 1 + r.int(a.count - 1) : 0
        switch r.int(3) {
        case 0: a.insert(neighbour(a[i], &r), at: i)
        case 1: a.remove(at: i)
        default: a[i] = neighbour(a[i], &r)
        }
        return String(a)
    }

    static func transpose(_ s: String, _ r: inout SplitMix64) -> String {
        var a = Array(s)
        guard a.count >= 3 else { return s }
        let i = 1 + r.int(a.count - 2)
        a.swapAt(i, i + 1)
        return String(a)
    }
}
