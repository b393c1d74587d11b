#!/usr/bin/env python3
"""Splink 5 (DuckDB backend) on the files of `aurum generate people`: the reference side of the
matching benchmark.

Reads the source files, maps each one's columns to a common schema and standardises them in
DuckDB (as a careful Splink user would), builds a Fellegi-Sunter model, trains it, predicts,
clusters at a threshold and writes OUT/clusters.csv (source,record_id,cluster_id) — the format of
`aurum dedupe` — plus OUT/splink_model.json and OUT/splink_stats.json (stage times, peak memory,
the learned match weights).

The model (what an expert would write for these columns):
  standardise: names lower case without accents or punctuation, given names through the nickname
    table of Sources/Aurum/Generate/Nicknames.swift (read from the repository, not copied);
    dates parsed per source; phones to their last 10 digits; e-mail lower case; postcodes upper
    case without spaces; street types abbreviated and flat/unit numbers removed; SIN digits.
  comparisons:
    name    null / exact given+family (TF on the full name) / given and family swapped /
            nickname-equal given + exact family (TF family) / JW >= 0.92 both / JW >= 0.88 both /
            exact family (TF) / nickname-equal given (TF) / else
    dob     null / exact / day and month swapped / Levenshtein <= 1 / within 1 year / else
    email   Splink's EmailComparison (exact / exact user name / JW 0.88 on e-mail / JW 0.88 on user name / else)
    phone   null / exact / Damerau-Levenshtein <= 1 / else
    address null (street and postcode) / exact street + postcode / exact postcode /
            exact street + city / JW >= 0.9 street + same postcode area (first 3) / exact city (TF) / else
            (one comparison: street, postcode and city are one fact, and counted separately a
            shared household address would count three times)
    gender  null / exact / else
    sin     null / exact / Damerau-Levenshtein <= 1 / else (u of the two agreeing levels fixed at
            1e-6 and 1e-5: random pairs never show them)
  prediction blocking (OR): family+dob year, nickname-given+postcode, e-mail, phone,
    nickname-given+dob, SIN.
  training: lambda from deterministic rules (e-mail; phone+dob) at recall 0.7; u by random
    sampling (--max-pairs, default 1e7, seed 42); m by EM on two blocks, date of birth and
    e-mail, so every comparison is trained on a block that does not fix it.
  clustering: connected components at --threshold (match probability, default 0.99: the best
    of 0.5/0.9/0.95/0.99 on the 100k set; higher thresholds are reported by --extra-thresholds).

Usage: splink_dedupe.py FILE... --out DIR [--threshold 0.99] [--max-pairs 1e7] [--no-dob-veto]
       [--extra-thresholds 0.95,0.999]  (also writes clusters_<t>.csv for each)
"""
import argparse, json, math, os, re, resource, sys, time

import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

HERE = os.path.dirname(os.path.abspath(__file__))
NICKNAMES_SWIFT = os.path.join(HERE, "..", "..", "Sources", "Aurum", "Generate", "Nicknames.swift")

# How each source's columns map to the common schema, and how its dates are written.
SCHEMAS = {
    "crm_contacts": dict(given="first_name", family="last_name", dob="birth_date", dob_format="%Y-%m-%d",
                         gender="gender", email="email", phone="phone", street="street", city="city",
                         postcode="postal_code"),
    "webshop_customers": dict(given="given_name", family="surname", dob="dob", dob_format="%d/%m/%Y",
                              email="email_address", phone="mobile", street="address_line1", city="town",
                              postcode="postcode"),
    "benefits_register": dict(given="forename", family="family_name", dob="date_of_birth", dob_format="%d %b %Y",
                              gender="sex", sin="sin", phone="telephone", street="street_address", city="city",
                              postcode="postal", email="contact_email"),
    "loyalty_members": dict(given="fname", family="lname", dob="birthday", dob_format="%Y%m%d", email="email",
                            phone="phone_number", postcode="zip", city="city"),
    "support_tickets": dict(full_name="customer_name", email="email", phone="phone", city="city"),
}


def schema_for(path):
    base = os.path.basename(path)[:-4]
    base = re.sub(r"_\d+$", "", base)
    if base not in SCHEMAS:
        sys.exit(f"{path}: unknown source (expected one of {', '.join(SCHEMAS)})")
    return SCHEMAS[base]


def nickname_pairs():
    """(nickname, canonical) from the Swift table, first canonical wins, as Nicknames.canonical."""
    text = open(NICKNAMES_SWIFT, encoding="utf-8").read()
    out = {}
    for name, nicks in re.findall(r'\("([a-z\-]+)", \[([^\]]*)\]\)', text):
        for n in re.findall(r'"([a-z\-]+)"', nicks):
            if n != name and n not in out:
                out[n] = name
    return [(k.replace("-", ""), v.replace("-", "")) for k, v in out.items()]


def q(s):
    return '"' + s.replace('"', '""') + '"'


def std_name(expr):
    return f"nullif(regexp_replace(lower(strip_accents(trim({expr}))), '[^a-z]', '', 'g'), '')"


STREET_TYPES = [("street", "st"), ("avenue", "ave"), ("road", "rd"), ("drive", "dr"), ("crescent", "cres"),
                ("boulevard", "blvd"), ("court", "crt"), ("place", "pl"), ("lane", "ln")]


def std_street(expr):
    s = f"lower(strip_accents(trim({expr})))"
    s = f"regexp_replace({s}, ',? *(apt|unit) *[0-9]+$', '')"   # trailing flat/unit
    s = f"regexp_replace({s}, '^[0-9]+-', '')"                   # leading unit-number
    for long, short in STREET_TYPES:
        s = f"regexp_replace({s}, ' {long}$', ' {short}')"
    s = f"regexp_replace({s}, '[^a-z0-9 ]', '', 'g')"
    return f"nullif(trim({s}), '')"


def select_for(path, idx):
    m = schema_for(path)
    src = os.path.basename(path)
    cols = {}
    if "full_name" in m:
        fn = f"trim({q(m['full_name'])})"
        cols["given_raw"] = f"CASE WHEN {fn} LIKE '%,%' THEN trim(split_part({fn}, ',', 2)) ELSE split_part({fn}, ' ', 1) END"
        cols["family_raw"] = (f"CASE WHEN {fn} LIKE '%,%' THEN split_part({fn}, ',', 1) "
                              f"ELSE nullif(trim(substr({fn}, length(split_part({fn}, ' ', 1)) + 2)), '') END")
    else:
        cols["given_raw"] = q(m["given"])
        cols["family_raw"] = q(m["family"])
    dob = f"try_strptime(nullif(trim({q(m['dob'])}), ''), '{m['dob_format']}')::DATE" if "dob" in m else "NULL::DATE"
    email = f"nullif(lower(trim({q(m['email'])})), '')" if "email" in m else "NULL"
    phone = f"nullif(right(regexp_replace({q(m['phone'])}, '[^0-9]', '', 'g'), 10), '')" if "phone" in m else "NULL"
    postcode = f"nullif(upper(replace({q(m['postcode'])}, ' ', '')), '')" if "postcode" in m else "NULL"
    street = std_street(q(m["street"])) if "street" in m else "NULL"
    city = (f"nullif(regexp_replace(lower(strip_accents(trim({q(m['city'])}))), '[^a-z]', '', 'g'), '')"
            if "city" in m else "NULL")
    gender = f"nullif(lower(substr(trim({q(m['gender'])}), 1, 1)), '')" if "gender" in m else "NULL"
    sin = f"nullif(regexp_replace({q(m['sin'])}, '[^0-9]', '', 'g'), '')" if "sin" in m else "NULL"
    return f"""
      SELECT '{src}' AS source, id AS record_id, '{idx}:' || id AS unique_id,
             {std_name(cols['given_raw'])} AS given_std, {std_name(cols['family_raw'])} AS family_std,
             {dob} AS dob, {email} AS email, {phone} AS phone, {postcode} AS postcode, {street} AS street,
             {city} AS city, {gender} AS gender, {sin} AS sin
      FROM read_csv('{path}', all_varchar = true, header = true)"""


def build_input(con, files):
    con.execute("CREATE TABLE nick(nick VARCHAR, canon VARCHAR)").fetchall()
    con.executemany("INSERT INTO nick VALUES (?, ?)", nickname_pairs()).fetchall()
    union = " UNION ALL ".join(select_for(os.path.abspath(f), i) for i, f in enumerate(files))
    con.execute(f"CREATE TABLE raw_people AS {union}").fetchall()
    con.execute("""
      CREATE TABLE people AS
      SELECT r.*, coalesce(n.canon, r.given_std) AS given_canon,
             r.given_std || ' ' || r.family_std AS full_name,
             year(r.dob)::VARCHAR AS dob_year, strftime(r.dob, '%Y-%m-%d') AS dob_str, substr(r.postcode, 1, 3) AS postcode_fsa
      FROM raw_people r LEFT JOIN nick n ON n.nick = r.given_std""").fetchall()
    return con.execute("SELECT count(*) FROM people").fetchall()[0][0]


def settings(dob_veto=True):
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.And(cll.NullLevel("given_std"), cll.NullLevel("family_std")),
            cll.ExactMatchLevel("full_name").configure(tf_adjustment_column="full_name"),
            cll.ColumnsReversedLevel("given_std", "family_std", symmetrical=True),
            cll.And(cll.ExactMatchLevel("given_canon"), cll.ExactMatchLevel("family_std")).configure(
                tf_adjustment_column="family_std", label_for_charts="nickname given + exact family"),
            cll.And(cll.JaroWinklerLevel("given_std", 0.92), cll.JaroWinklerLevel("family_std", 0.92)),
            cll.And(cll.JaroWinklerLevel("given_std", 0.88), cll.JaroWinklerLevel("family_std", 0.88)),
            cll.ExactMatchLevel("family_std").configure(tf_adjustment_column="family_std"),
            cll.ExactMatchLevel("given_canon").configure(tf_adjustment_column="given_canon"),
            cll.ElseLevel(),
        ])
    dob = cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel("year(dob_l) = year(dob_r) AND month(dob_l) = day(dob_r) AND day(dob_l) = month(dob_r)",
                            label_for_charts="day and month swapped"),
            cll.LevenshteinLevel("dob_str", 1),
            cll.AbsoluteDateDifferenceLevel("dob", input_is_string=False, threshold=1, metric="year"),
            # The same rule as the Aurum catalog's `exclusions: [[dob]]`: another date of birth is
            # another person. A fixed, vanishing m makes the level a veto (--no-dob-veto: learned).
            cll.ElseLevel().configure(m_probability=1e-12, fix_m_probability=True) if dob_veto else cll.ElseLevel(),
        ])
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[cll.NullLevel("phone"), cll.ExactMatchLevel("phone"),
                           cll.DamerauLevenshteinLevel("phone", 1), cll.ElseLevel()])
    # One comparison for the address: street, postcode and city describe the same fact, and
    # three independent comparisons would count a shared household address three times.
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.And(cll.NullLevel("street"), cll.NullLevel("postcode")),
            cll.And(cll.ExactMatchLevel("street"), cll.ExactMatchLevel("postcode")),
            cll.ExactMatchLevel("postcode"),
            cll.And(cll.ExactMatchLevel("street"), cll.ExactMatchLevel("city")),
            cll.And(cll.JaroWinklerLevel("street", 0.9), cll.ExactMatchLevel("postcode_fsa")),
            cll.ExactMatchLevel("city").configure(tf_adjustment_column="city"),
            cll.ElseLevel(),
        ])
    # A SIN is unique: random pairs almost never agree, so random sampling cannot see the level;
    # set its u by hand (one person in a million) rather than leave Splink's default.
    sin = cl.CustomComparison(
        output_column_name="sin",
        comparison_levels=[cll.NullLevel("sin"),
                           cll.ExactMatchLevel("sin").configure(u_probability=1e-6, fix_u_probability=True),
                           cll.DamerauLevenshteinLevel("sin", 1).configure(u_probability=1e-5, fix_u_probability=True),
                           cll.ElseLevel()])
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            name, dob,
            cl.EmailComparison("email"),
            phone, address,
            cl.ExactMatch("gender"),
            sin,
        ],
        blocking_rules_to_generate_predictions=[
            block_on("family_std", "dob_year"),
            block_on("given_canon", "postcode"),
            block_on("email"),
            block_on("phone"),
            block_on("given_canon", "dob"),
            block_on("sin"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def learned_weights(model):
    out = {}
    for c in model["comparisons"]:
        levels = []
        for lv in c["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            w = math.log2(m / u) if m and u else None
            levels.append({"level": lv.get("label_for_charts", lv["sql_condition"])[:60], "m": m, "u": u,
                           "match_weight": None if w is None else round(w, 2)})
        out[c["output_column_name"]] = levels
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threshold", type=float, default=0.99)
    ap.add_argument("--no-dob-veto", action="store_true", help="learn the dob else level instead of fixing it as a veto")
    ap.add_argument("--extra-thresholds", default="")
    ap.add_argument("--max-pairs", type=float, default=1e7)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    times = {}
    t0 = t = time.perf_counter()

    def lap(name):
        nonlocal t
        now = time.perf_counter()
        times[name] = round(now - t, 2)
        print(f"splink: {name} {now - t:.1f}s", file=sys.stderr, flush=True)
        t = now

    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}").fetchall()
    n = build_input(con, a.files)
    lap("read+standardise")
    db = DuckDBAPI(con)
    linker = Linker(db.register("people"), settings(dob_veto=not a.no_dob_veto), log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("phone", "dob")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=a.max_pairs, seed=42)
    lap("train u")
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
    lap("train m (EM)")
    thresholds = [a.threshold] + [float(x) for x in a.extra_thresholds.split(",") if x]
    pred = linker.inference.predict(threshold_match_probability=min(thresholds))
    n_pairs = con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchall()[0][0]
    lap("predict")
    for i, thr in enumerate(thresholds):
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold_match_probability=thr)
        name = "clusters.csv" if i == 0 else f"clusters_{thr}.csv"
        con.execute(f"""COPY (SELECT p.source, p.record_id, c.cluster_id FROM {clusters.physical_name} c
                              JOIN people p USING (unique_id) ORDER BY p.source, p.record_id)
                        TO '{os.path.join(a.out, name)}' (HEADER, DELIMITER ',')""").fetchall()
        lap(f"cluster@{thr}")
    total = time.perf_counter() - t0
    model_path = os.path.join(a.out, "splink_model.json")
    linker.misc.save_model_to_json(model_path, overwrite=True)
    model = json.load(open(model_path))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats = {"records": n, "pairs_scored_above_min_threshold": n_pairs, "seconds": round(total, 2),
             "peak_rss_mib": round(peak, 1), "stages": times, "threshold": a.threshold,
             "probability_two_random_records_match": model.get("probability_two_random_records_match"),
             "match_weights": learned_weights(model)}
    json.dump(stats, open(os.path.join(a.out, "splink_stats.json"), "w"), indent=2)
    print(f"splink: {n} records, {n_pairs} pairs >= {min(thresholds)}, {total:.1f}s, peak {peak:.0f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
