/// English and French given-name nicknames, for generating test data and for standardising given
/// names before comparison (`Nicknames.canonical["bill"] == "william"`).
///
/// All names are lowercase and without accents. A nickname shared by several names (`chris`:
/// christopher, christina, christine) maps in ``canonical`` to the most common of them, the first
/// one listed in ``table``; ``canonicalNames(of:)`` gives every candidate.
public enum Nicknames {
    /// Canonical given name → its nicknames and short forms, most common canonical names first.
    public static let table: [(name: String, nicknames: [String])] = [
        ("william", ["bill", "will", "billy", "willy", "liam"]),
        ("robert", ["bob", "rob", "bobby", "robbie", "bert"]),
        ("james", ["jim", "jimmy", "jamie"]),
        ("john", ["jack", "johnny", "jon"]),
        ("michael", ["mike", "mikey", "mick"]),
        ("richard", ["rick", "dick", "rich", "richie", "ricky"]),
        ("thomas", ["tom", "tommy"]),
        ("charles", ["charlie", "chuck", "chas"]),
        ("joseph", ["joe", "joey"]),
        ("christopher", ["chris", "kit"]),
        ("daniel", ["dan", "danny"]),
        ("matthew", ["matt", "matty"]),
        ("anthony", ["tony"]),
        ("donald", ["don", "donny"]),
        ("steven", ["steve"]),
        ("stephen", ["steve", "stevie"]),
        ("andrew", ["andy", "drew"]),
        ("kenneth", ["ken", "kenny"]),
        ("joshua", ["josh"]),
        ("edward", ["ed", "eddie", "ted", "ned"]),
        ("ronald", ["ron", "ronnie"]),
        ("timothy", ["tim", "timmy"]),
        ("jeffrey", ["jeff"]),
        ("nicholas", ["nick", "nicky"]),
        ("jonathan", ["jon", "jonny"]),
        ("benjamin", ["ben", "benny"]),
        ("samuel", ["sam", "sammy"]),
        ("gregory", ["greg"]),
        ("alexander", ["alex", "sandy", "xander"]),
        ("patrick", ["pat", "paddy"]),
        ("frederick", ["fred", "freddie"]),
        ("raymond", ["ray"]),
        ("lawrence", ["larry"]),
        ("gerald", ["gerry", "jerry"]),
        ("peter", ["pete"]),
        ("douglas", ["doug"]),
        ("zachary", ["zach", "zack"]),
        ("nathaniel", ["nate", "nat"]),
        ("nathan", ["nate"]),
        ("philip", ["phil"]),
        ("leonard", ["leo", "len", "lenny"]),
        ("vincent", ["vince", "vinny"]),
        ("theodore", ["ted", "teddy", "theo"]),
        ("francis", ["frank", "fran"]),
        ("albert", ["al", "bert"]),
        ("alfred", ["alf", "fred"]),
        ("harold", ["harry", "hal"]),
        ("henry", ["hank", "harry"]),
        ("walter", ["walt", "wally"]),
        ("eugene", ["gene"]),
        ("terrence", ["terry"]),
        ("randall", ["randy"]),
        ("stanley", ["stan"]),
        ("mitchell", ["mitch"]),
        ("maxwell", ["max"]),
        ("oliver", ["ollie"]),
        ("jacob", ["jake"]),
        ("gabriel", ["gabe"]),
        ("dominic", ["dom"]),
        ("bradley", ["brad"]),
        ("cameron", ["cam"]),
        ("frederic", ["fred"]),
        ("jean-francois", ["jf"]),
        ("sebastien", ["seb"]),
        ("maximilien", ["max"]),
        ("elizabeth", ["liz", "beth", "betty", "lizzie", "eliza", "betsy"]),
        ("margaret", ["peggy", "maggie", "meg", "marge", "margie"]),
        ("jennifer", ["jen", "jenny"]),
        ("patricia", ["pat", "patty", "trish", "tricia"]),
        ("katherine", ["kate", "kathy", "katie", "kat"]),
        ("catherine", ["cathy", "cate", "cat"]),
        ("kathleen", ["kathy", "kate"]),
        ("deborah", ["deb", "debbie"]),
        ("rebecca", ["becky", "becca"]),
        ("susan", ["sue", "suzy"]),
        ("jessica", ["jess", "jessie"]),
        ("christina", ["chris", "tina", "christy"]),
        ("christine", ["chris", "chrissy"]),
        ("barbara", ["barb", "babs"]),
        ("dorothy", ["dot", "dottie"]),
        ("victoria", ["vicky", "tori"]),
        ("samantha", ["sam", "sammy"]),
        ("alexandra", ["alex", "lexi", "sandra"]),
        ("abigail", ["abby"]),
        ("pamela", ["pam"]),
        ("cynthia", ["cindy"]),
        ("kimberly", ["kim"]),
        ("stephanie", ["steph"]),
        ("jacqueline", ["jackie"]),
        ("frances", ["fran", "frankie"]),
        ("theresa", ["terry", "tess", "tessa"]),
        ("judith", ["judy"]),
        ("virginia", ["ginny"]),
        ("josephine", ["jo", "josie"]),
        ("caroline", ["carrie"]),
        ("valerie", ["val"]),
        ("gabrielle", ["gabby"]),
        ("danielle", ["dani"]),
        ("isabelle", ["izzy", "belle"]),
        ("nathalie", ["nat"]),
        ("madeleine", ["maddie"]),
        ("eleanor", ["ellie", "nell"]),
        ("helen", ["nell"]),
        ("susanne", ["sue"]),
        ("marie-claude", ["mc"]),
        ("genevieve", ["gen"]),
        ("mary", ["molly", "polly", "mae"]),
        ("sarah", ["sally", "sadie"]),
        ("anne", ["annie", "nan"]),
        ("amanda", ["mandy"]),
        ("cassandra", ["cassie"]),
    ]

    /// Lowercase nickname → lowercase canonical given name (the most common one when a nickname is
    /// shared). Canonical names themselves are not keys: standardise with `canonical[n] ?? n`.
    public static let canonical: [String: String] = {
        var m: [String: String] = [:]
        for (name, nicks) in table {
            for n in nicks where m[n] == nil && n != name { m[n] = name }
        }
        return m
    }()

    /// Every canonical name a lowercase given name may stand for: itself, plus each name it is a
    /// nickname of (`"chris"` → `["chris", "christopher", "christina", "christine"]`).
    public static func canonicalNames(of name: String) -> [String] {
        var out = [name]
        for (c, nicks) in table where nicks.contains(name) && !out.contains(c) { out.append(c) }
        return out
    }

    /// Canonical lowercase name → its nicknames (for generators).
    static let nicknames: [String: [String]] = {
        var m: [String: [String]] = [:]
        for (name, nicks) in table { m[name, default: []].append(contentsOf: nicks) }
        return m
    }()
}
