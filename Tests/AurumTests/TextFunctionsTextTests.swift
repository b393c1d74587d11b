import Testing

@testable import Aurum

struct TextFunctionsTextTests {
    @Test(arguments: [
        ("Crème Brûlée", "Creme Brulee"),
        ("Ångström", "Angstrom"),
        ("Łódź", "Lodz"),
        ("straße", "strasse"),
        ("STRAẞE", "STRASSE"),
        ("Æsir", "Aesir"),
        ("ÆSIR", "AESIR"),
        ("encyclopædia", "encyclopaedia"),
        ("Œuvre", "Oeuvre"),
        ("Ørsted", "Orsted"),
        ("Þór", "Thor"),
        ("Đorđe", "Dorde"),
        ("ðe", "de"),
        ("İstanbul", "Istanbul"),
        ("ıslak", "islak"),
        ("Dvořák", "Dvorak"),
        ("Nguyễn", "Nguyen"),
        ("ça va", "ca va"),
        ("Zoë", "Zoe"),
        ("e\u{301}", "e"),
        ("plain ascii", "plain ascii"),
        ("", ""),
        // Marks that are part of a script's letters stay; Hangul stays composed.
        ("हिन्दी", "हिन्दी"),
        ("한국어", "한국어"),
        ("Москва", "Москва"),
        ("Ёлка", "Елка"),
    ])
    func stripAccents(_ input: String, _ expected: String) {
        #expect(TextFunctions.stripAccents(input) == expected)
    }

    @Test(arguments: [
        ("jean-luc o'neill", "Jean-Luc O'Neill"),
        ("MARY ANN", "Mary Ann"),
        ("mary ann", "Mary Ann"),
        ("d'angelo", "D'Angelo"),
        ("l’oréal", "L’Oréal"),
        ("don't stop", "Don't Stop"),
        ("rock'n'roll", "Rock'n'roll"),
        ("'tis", "'Tis"),
        ("ÉMILE ZOLA", "Émile Zola"),
        ("j.r.r. tolkien", "J.R.R. Tolkien"),
        ("3rd avenue", "3rd Avenue"),
        ("smith/jones (uk)", "Smith/Jones (Uk)"),
        ("  two  spaces ", "  Two  Spaces "),
        ("ǆemal", "ǅemal"),
        ("ßtraße", "Sstraße"),
        ("", ""),
    ])
    func titleCase(_ input: String, _ expected: String) {
        #expect(TextFunctions.titleCase(input) == expected)
    }
}
