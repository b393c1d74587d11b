import Testing

@testable import Aurum

struct TextFunctionsContactTests {
    // MARK: E-mail

    @Test(arguments: [
        ("john.doe@example.com", "john.doe@example.com"),
        ("  John.Doe@Example.COM  ", "john.doe@example.com"),
        ("<ann@example.com>", "ann@example.com"),
        ("Ann Smith <ANN@example.com>", "ann@example.com"),
        ("mailto:ann@example.com", "ann@example.com"),
        ("MAILTO:Ann@Example.com?subject=Hello", "ann@example.com"),
        ("<mailto:ann@example.com>", "ann@example.com"),
        ("ann+tag@sub.example.co.uk", "ann+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("x_y-z@my-domain.io", "x_y-z@my-domain.io"),
        ("josé@exämple.de", "josé@exämple.de"),
        ("user@xn--bcher-kva.example", "user@xn--bcher-kva.example"),
    ])
    func validEmails(_ input: String, _ expected: String) {
        #expect(TextFunctions.normalizeEmail(input) == expected)
    }

    @Test(arguments: [
        "", "plainaddress", "@example.com", "ann@", "ann@@example.com", "ann@b@example.com", "ann@example",
        "ann@example.c", "ann@example.123", ".ann@example.com", "ann.@example.com", "an..n@example.com",
        "ann smith@example.com", "ann@exa mple.com", "ann@exa_mple.com", "ann@-example.com", "ann@example-.com",
        "ann@example..com", "ann@.example.com", "\"ann\"@example.com", "ann@[127.0.0.1]", "ann,bob@example.com",
        "mailto:", String(repeating: "a", count: 65) + "@example.com",
    ])
    func invalidEmails(_ input: String) {
        #expect(TextFunctions.normalizeEmail(input) == nil)
    }

    // MARK: Phones

    /// Expected values from libphonenumber (python `phonenumbers` 9.0), which agrees on all of
    /// these; `tools/diff_phone.py` also checks every region's example numbers.
    @Test(arguments: [
        ("020 7946 0018", "GB", "+442079460018"),
        ("+44 (0)20 7946 0018", "US", "+442079460018"),
        ("+44 20 7946 0018", "DE", "+442079460018"),
        ("+44 020 7946 0018", "US", "+442079460018"),
        ("030 1234567", "DE", "+49301234567"),
        ("+49 (30) 1234567", "US", "+49301234567"),
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("06.12.34.56.78", "fr", "+33612345678"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("1-415-555-0123", "US", "+14155550123"),
        ("415.555.0123 x45", "US", "+14155550123"),
        ("+1 415 555 0123 ext. 12", "US", "+14155550123"),
        ("(415) 555-0123 extension 7", "US", "+14155550123"),
        ("415-555-0123 #22", "US", "+14155550123"),
        ("tel:+1-201-555-0123;ext=1234", "US", "+12015550123"),
        ("011 44 20 7946 0018", "US", "+442079460018"),
        ("(613) 555-0199", "CA", "+16135550199"),
        ("0044 20 7946 0018", "DE", "+442079460018"),
        ("06 1234 5678", "IT", "+390612345678"),
        ("+39 06 1234 5678", "US", "+390612345678"),
        ("312 345 6789", "IT", "+393123456789"),
        ("8 (495) 123-45-67", "RU", "+74951234567"),
        ("+7 495 123 45 67", "US", "+74951234567"),
        ("8 800 555 35 35", "RU", "+78005553535"),
        ("06 1 234 5678", "HU", "+3612345678"),
        ("02 9374 4000", "AU", "+61293744000"),
        ("0412 345 678", "AU", "+61412345678"),
        ("0011 44 20 7946 0018", "AU", "+442079460018"),
        ("03-1234-5678", "JP", "+81312345678"),
        ("090-1234-5678", "JP", "+819012345678"),
        ("010 1234 5678", "CN", "+861012345678"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("098765 43210", "IN", "+919876543210"),
        ("+91 98765 43210", "US", "+919876543210"),
        ("(11) 2345-6789", "BR", "+551123456789"),
        ("(11) 91234-5678", "BR", "+5511912345678"),
        ("55 1234 5678", "MX", "+525512345678"),
        ("912 345 678", "ES", "+34912345678"),
        ("0612345678", "NL", "+31612345678"),
        ("021 123 4567", "ZA", "+27211234567"),
        ("044 668 18 00", "CH", "+41446681800"),
        ("22 12 34 56", "NO", "+4722123456"),
        ("0212 123 45 67", "TR", "+902121234567"),
        ("09 123 4567", "NZ", "+6491234567"),
        ("+351 912 345 678", "US", "+351912345678"),
        ("08-123 456 78", "SE", "+46812345678"),
        ("0660 1234567", "AT", "+436601234567"),
        ("612 345 678", "PL", "+48612345678"),
        ("40 12 34 56", "DK", "+4540123456"),
        ("09 1234 5678", "FI", "+358912345678"),
        ("210 123 4567", "GR", "+302101234567"),
        ("21 234 5678", "PT", "+351212345678"),
        ("02 1234 5678", "KR", "+82212345678"),
        ("6123 4567", "SG", "+6561234567"),
        ("8 029 491-19-11", "BY", "+375294911911"),
        ("+442079460018", "", "+442079460018"),
    ])
    func validPhones(_ input: String, _ country: String, _ expected: String) {
        #expect(TextFunctions.normalizePhone(input, defaultCountry: country) == expected)
    }

    @Test(arguments: [
        ("555-0123", "US"),  // 7 digits: NANP numbers have 10
        ("123456", "GB"),  // too short
        ("+1 415 555 01234567890", "US"),  // more than 15 digits
        ("(015) 555-0123", "US"),  // NANP area codes do not start with 0 or 1
        ("(415) 155-0123", "US"),  // nor exchanges
        ("1-800-FLOWERS", "US"),  // letters
        ("415 555 0123 call me", "US"),
        ("415*555*0123", "US"),
        ("++44 20 7946 0018", "US"),
        ("44 +20 7946 0018", "US"),
        ("020 7946 0018", "XX"),  // unknown default country
        ("020 7946 0018", ""),  // no default: only international numbers
        ("+999 1234 5678", "US"),  // unassigned calling code
        ("21 123 4567", "GR"),  // Greek numbers have 10 digits
        ("", "US"),
        ("ext. 12", "US"),
    ])
    func invalidPhones(_ input: String, _ country: String) {
        #expect(TextFunctions.normalizePhone(input, defaultCountry: country) == nil)
    }

    @Test func phoneTablesCoverTheCommonCountries() {
        let tables = TextFunctions.PhoneTables.shared
        let common = [
            "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
            "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "GB", "US", "CA", "AU", "NZ", "IN", "CN", "JP", "BR",
            "MX", "ZA", "CH", "NO", "RU", "TR", "KR", "SG", "HK", "TW", "IL", "AE", "SA", "EG", "NG", "KE", "AR", "CL",
            "CO", "PE", "ID", "MY", "TH", "VN", "PH", "PK", "BD", "UA", "IS",
        ]
        for code in common {
            #expect(tables.regions[code] != nil, "\(code)")
        }
        #expect(tables.regions.count >= 240)
        #expect(tables.regions["GB"]?.callingCode == 44)
        #expect(tables.regions["IT"]?.trunkPrefixes == [])
        #expect(tables.regions["HU"]?.trunkPrefixes == [[0, 6]])
        #expect(tables.regions["US"]?.internationalPrefix == [0, 1, 1])
        #expect(tables.countries[1]?.minLength == 7)
    }

    // MARK: Postcodes

    @Test(arguments: [
        ("sw1a1aa", "GB", "SW1A 1AA"),
        ("EC1A 1BB", "GB", "EC1A 1BB"),
        ("w1a0ax", "gb", "W1A 0AX"),
        ("M1 1AE", "GB", "M1 1AE"),
        ("b33  8th", "GB", "B33 8TH"),
        ("DN55 1PT", "UK", "DN55 1PT"),
        ("gir 0aa", "GB", "GIR 0AA"),
        ("12345", "US", "12345"),
        ("123456789", "US", "12345-6789"),
        ("12345-6789", "US", "12345-6789"),
        ("1234ab", "NL", "1234 AB"),
        ("k1a0b1", "CA", "K1A 0B1"),
        ("d02x285", "IE", "D02 X285"),
        ("D6W XY12", "IE", "D6W XY12"),
        ("12 345", "DE", "12345"),
        ("75008", "FR", "75008"),
        ("8001", "CH", "8001"),
        ("01-234", "PL", "01-234"),
        ("1234567", "PT", "1234-567"),
        ("11455", "SE", "114 55"),
        ("100-0001", "JP", "100-0001"),
        ("01310-100", "BR", "01310-100"),
        ("1050", "LV", "LV-1050"),
        ("LT-01100", "LT", "LT-01100"),
        ("vlt 1117", "MT", "VLT 1117"),
        ("110001", "IN", "110001"),
        ("  ab-12  cd ", "", "AB-12 CD"),
        ("ab 12", "ZZ", "AB 12"),
    ])
    func validPostcodes(_ input: String, _ country: String, _ expected: String) {
        #expect(TextFunctions.normalizePostcode(input, country: country) == expected)
    }

    @Test(arguments: [
        ("SW1A", "GB"), ("SW1A 1A", "GB"), ("1AA 1AA", "GB"), ("1234", "US"), ("1234567", "US"), ("0123 AB", "NL"),
        ("1234 A", "NL"), ("K1A 0B", "CA"), ("1234", "DE"), ("1234#5", "DE"), ("", ""), ("  --  ", ""),
    ])
    func invalidPostcodes(_ input: String, _ country: String) {
        #expect(TextFunctions.normalizePostcode(input, country: country) == nil)
    }
}
