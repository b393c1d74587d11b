import Foundation

/// Deterministic synthetic customer data for benchmarks and demos: the mess real exports have
/// (quoted fields with commas and quotes, empty values, accented text, mixed formats).
public enum CustomerGenerator {
    public static let columns = ["customer_id", "first_name", "last_name", "email", "phone", "street", "city",
                                 "postcode", "country", "birth_date", "signup_at", "balance"]

    static let first = ["Ana", "José", "Zoë", "Mei", "Lars", "Priya", "Tom", "Seán", "Émilie", "Jürgen", "Olga", "Kenji",
                        "Fatima", "Noah", "Chloé", "Mateo", "Ingrid", "Ravi", "Aoife", "Björn", "Lucía", "Omar", "Hana", "Piotr"]
    static let last = ["García", "O'Brien", "Chen", "Øster", "Nair", "Smith", "Dubois", "Müller", "Kowalski", "Rossi",
                       "Sato", "Haddad", "Novák", "Jones", "Fernández", "Larsen", "Ivanova", "Murphy", "Lefèvre", "Ng"]
    static let streets = ["Main St", "High Street", "Rue de la Paix", "Hauptstraße", "Via Roma", "Calle Mayor", "Elm Avenue", "Baker Street"]
    static let cities = ["Springfield", "Dublin", "Paris", "München", "Roma", "Madrid", "Kraków", "São Paulo", "Zürich", "Oslo"]
    static let countries = ["US", "IE", "FR", "DE", "IT", "ES", "PL", "BR", "CH", "NO"]

    typealias Random = SplitMix64

    static func csvField(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) { return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        return s
    }

    /// Writes `rows` customer rows as CSV to `path`.
    public static func writeCSV(path: String, rows: Int, seed: UInt64 = 1) throws {
        let sink = try FileSink(path: path)
        var rng = Random(state: seed)
        try sink.write(columns.joined(separator: ",") + "\n")
        for i in 0..<rows {
            let f = rng.pick(first), l = rng.pick(last)
            let country = rng.pick(countries)
            var fields: [String] = []
            fields.append(String(100_000 + i))
            fields.append(f)
            fields.append(rng.int(50) == 0 ? "" : l)
            let e = "\(TextFunctions.stripAccents(f).lowercased()).\(TextFunctions.stripAccents(l).lowercased().replacingOccurrences(of: "'", with: ""))\(rng.int(100))@example.com"
            fields.append(rng.int(8) == 0 ? e.uppercased() : e)
            switch rng.int(4) {
            case 0: fields.append("(\(200 + rng.int(800))) 555-\(String(format: "%04d", rng.int(10000)))")
            case 1: fields.append("+1 \(200 + rng.int(800)) 555 \(String(format: "%04d", rng.int(10000)))")
            case 2: fields.append("")
            default: fields.append("\(200 + rng.int(800)).555.\(String(format: "%04d", rng.int(10000)))")
            }
            let street = "\(1 + rng.int(999)) \(rng.pick(streets))"
            fields.append(rng.int(10) == 0 ? "\(street), Apt \(1 + rng.int(40))" : street)
            fields.append(rng.pick(cities))
            fields.append(String(format: "%05d", rng.int(100_000)))
            fields.append(country)
            let y = 1940 + rng.int(65), m = 1 + rng.int(12), d = 1 + rng.int(28)
            fields.append(rng.int(3) == 0 ? String(format: "%02d/%02d/%04d", d, m, y) : String(format: "%04d-%02d-%02d", y, m, d))
            fields.append(String(format: "2024-%02d-%02dT%02d:%02d:%02dZ", 1 + rng.int(12), 1 + rng.int(28), rng.int(24), rng.int(60), rng.int(60)))
            fields.append(rng.int(20) == 0 ? "" : String(format: "%.2f", Double(rng.int(2_000_000)) / 100 - 5000))
            if rng.int(200) == 0 { fields[1] = "\"\(f)\" the \"great\"" }
            try sink.write(fields.map(csvField).joined(separator: ",") + "\n")
        }
        try sink.close()
    }
}
