"""English intent rules (en-US). Phrases are regular expressions over normalised text padded with
spaces; keep them readable, one idea per line."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from decimal import Decimal

from dialer.bot.intents import Intent, Recognition
from dialer.bot.nlu_dates import parse_en_date
from dialer.bot.nlu_numbers import en_words_to_number, is_en_number_word
from dialer.bot.nlu_times import en_callback_time

_CONTRACTIONS = {
    "can't": "cannot", "cant": "cannot", "can not": "cannot", "won't": "will not", "wont": "will not",
    "don't": "do not", "dont": "do not", "doesn't": "does not", "doesnt": "does not",
    "didn't": "did not", "didnt": "did not", "isn't": "is not", "isnt": "is not",
    "aren't": "are not", "wasn't": "was not", "haven't": "have not", "havent": "have not",
    "i'm": "i am", "im": "i am", "i'll": "i will", "ill": "i will", "i've": "i have", "ive": "i have",
    "it's": "it is", "that's": "that is", "thats": "that is", "he's": "he is", "she's": "she is",
    "you're": "you are", "there's": "there is", "we'll": "we will", "i'd": "i would",
    "gonna": "going to", "wanna": "want to", "gotta": "got to", "ain't": "am not",
}


def normalise(text: str) -> str:
    t = text.lower().replace("’", "'").replace("‘", "'")
    t = re.sub(r"[^a-z0-9$.,' ]", " ", t)
    t = re.sub(r"[,.](?!\d)", " , ", t)
    words = t.split()
    out = " ".join(_CONTRACTIONS.get(w, w) for w in words)
    out = out.replace("can not", "cannot")
    # Set phrases whose "no" is not a negation.
    out = re.sub(r"\b(no problem|no worries|no doubt)\b", "fine", out)
    return f" {out} "


def _any(patterns: tuple[str, ...], text: str) -> bool:
    return any(re.search(p, text) for p in patterns)


STOP_CALLING = (
    r" stop (calling|phoning|ringing|contacting|bothering|harassing)", r" do not (call|phone|ring|contact)",
    r" never (call|phone|ring|contact) (me|here|this number)", r" remove (me|my number|this number)",
    r" take (me|my number|this number) off", r" do not call list", r" quit calling", r" no more calls",
    r" unsubscribe", r" leave me alone", r" lose (this|my) number", r" stop these calls",
    r" (cease|stop) (all )?(communication|contact)", r" not to call (me|here)", r" (do not|never) ever call",
    r" (any|no) more (calls|phone calls)", r" stop ringing",
)
ASKS_HUMAN = (
    r" (speak|talk) (to|with) (a |an |some |your )?(real |live |actual )?(person|human|agent|"
    r"representative|someone|somebody|supervisor|manager|operator|people)",
    r" real person", r" human being", r" live (agent|person)", r" (customer service|representative|operator) ",
    r" transfer me", r" put me through", r" (get|give) me (a|an) (human|person|agent)",
    r" are you a (robot|machine|computer|bot)", r" (a|an) (human|agent|person) please",
    r" connect me (to|with)", r" (is this|am i talking to|are you) (a |an )?(robot|machine|computer|bot|recording)", r" want (a|an) (human|person|agent)",
    r" (agent|human|person|operator|representative|someone) please", r"^ (agent|operator|representative|human) ",
)
WRONG_NUMBER = (
    r" wrong number", r" no one (by|named|called) ", r" nobody (by|named|called|here by)",
    r" do not know (anyone|anybody|who|that (person|name)|a |any )", r" never heard of",
    r" not (his|her|their) (number|phone)", r" you have the wrong", r" no such person",
    r" there is no (one|body|[a-z]+) (here|by that name|at this number)", r" got this number (recently|last|a)",
    r" (is|has been) my number for", r" who is that", r" you (got|have) the wrong", r" misdialed",
    r" nobody lives here by", r" not a [a-z]+ here", r" wrong (person|guy|lady|house)",
)
THIRD_PARTY = (
    r" (he|she) is (not )?(here|in|home|available|at work|out|away|busy|sleeping|asleep|at school|"
    r"traveling|travelling|on a trip|in the shower)",
    r" (he|she) (is not|stepped|went|left|moved|does not live|is out)",
    r" (this is|i am) (his|her) (wife|husband|mother|mom|mum|father|dad|son|daughter|brother|sister|"
    r"colleague|coworker|roommate|friend|boss|neighbor|neighbour|partner|aunt|uncle|grandmother|"
    r"grandfather|cousin|girlfriend|boyfriend)",
    r" (his|her) (wife|husband|mother|mom|mum|father|dad|son|daughter|brother|sister|roommate|"
    r"partner) (here|speaking)", r" take a message", r" (tell|let) (him|her) (you called|know)",
    r" pass (it|the message|a message|that) (on|along)", r" (give|pass) (him|her) the message",
    r" (this is|it is) not (him|her|he|she)", r" i am not (him|her|he|she)",
    r" (he|she) (cannot|can not) come to the phone", r" (his|her) phone", r" on (his|her) behalf",
)
# A time to call back, from the debtor or from whoever answered ("he's back at 6"). Checked after
# opt-out (which always wins) and before who-is-on-the-line, so "she's out, call back at 6" is a callback.
CALLBACK = (
    r" (call|ring|phone|try|reach|contact) (me|him|her|us|them) (back|again|later|tomorrow|tonight|at|after|"
    r"around|in (a|an|the|\d|one|two|three|half|twenty|thirty|forty|few|couple)|this|on|next|some other time|another time)",
    r" (call|ring|phone|try) (back|again) (later|at|after|around|in|tomorrow|tonight|this|on|next|some|another)",
    r" (call|ring|try) later", r" call back later", r" (can|could) you (call|ring) back",
    r" (call|ring|phone) (me )?(tomorrow|tonight|this (morning|afternoon|evening)) ",
    r" (call|ring|phone) (me )?(back )?(on |next )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    r" (i am|i will be) (busy|driving|at work|in a meeting|in class|in the middle of|on the other line|with a (customer|client|patient)|"
    r"on my way|about to|working|at the doctor)",
    r" (bad|not a good|not the best|inconvenient) time", r" (i )?(cannot|not able to) talk (right )?now", r"^ busy right now",
    r" (he|she) (is|will be|gets|comes|should be) (back|home|free|available|off work|off) (at|after|around|by|in|tomorrow|tonight|this|later)",
    r" (he|she) (comes|gets) (back|home) ", r" (better|best) time (to call|would be|is)",
    r" (i am|i will be) (free|available|home) (at|after|around|by|in|tomorrow|tonight|this|later)",
)
ALREADY_PAID = (
    r" already (paid|made|sent|settled|transferred|took care|cleared|did)", r" (i|we) paid (it|that|this|the|in|off|yesterday|last|on|this)",
    r" (i|we) have paid", r" just paid", r" paid (it )?(off|in full|yesterday|last|this morning|already)",
    r" (payment|money) (went through|was sent|was made|has been made)", r" (check|cheque) is in the mail",
    r" (i|we) (sent|made|mailed|wired|transferred) (the|a|my|it|you) ", r" you should have (received|got|gotten)",
    r" (i|we) settled", r" it is (been )?paid", r" (bill|balance|account) is paid", r" (i|we) paid ",
    r" already (done|been (paid|settled|taken care|cleared))", r" (cleared|settled|paid) (it|that|this) already",
    r" it is already (been )?(paid|settled|done|cleared)", r" (has|have) (already )?been (paid|settled)",
)
DISPUTE = (
    r" not my (debt|loan|account|bill|card|charge)", r" never (borrowed|took out|opened|had|signed|applied|used)",
    r" (i|that) do not owe", r" i owe (nothing|you nothing)", r" (amount|balance|bill|charge) is (wrong|incorrect|not right|too high|off)",
    r" (wrong|incorrect) (amount|balance)", r" (this|that|it) is (a mistake|an error|wrong|fraud|a scam|not right)",
    r" identity (theft|was stolen)", r" dispute", r" do not recognize", r" not mine", r"someone (else )?(stole|used)",
    r" fraud", r" (i|we) do not have (a|an|any) (loan|card|account)", r" overcharg", r" (scam|scammer)",
    r" (that|this) (cannot|can not) be right", r" i (do not|did not) (take|make|authorize)", r" disagree",
    r" not (accurate|correct)", r" made a mistake", r" (interest|fees?|total|figure|charges?) (is|are) (wrong|incorrect|too high|not right)",
    r" owe (much |a lot |way )?less", r" (wrong|incorrect) (interest|fees?|total|figure)",
)
HARDSHIP = {
    "job_loss": (r" (lost|lose|losing) my (job|work)", r" laid off", r" unemployed", r" out of work", r" (got )?fired",
                 r" no (income|job|work)", r" (business|shop|store|company) (closed|failed|went under|shut)", r" pay cut",
                 r" between jobs", r" (hours|salary) (got )?(cut|reduced)", r" furlough"),
    "illness": (r" (i am|been|was|got|very|really) (sick|ill)", r" illness", r" hospital", r" surgery", r" cancer", r" fever",
                r" injur", r" accident", r" medical", r" (in|on) (treatment|chemo)", r" disabled", r" sick"),
    "quarantine": (r" quarantin", r" isolat", r" lockdown", r" covid", r" locked down"),
    "no_money": (r" (things|money|times) (are|is) (really |very |pretty )?(tough|hard|difficult|tight)", r" cannot afford", r" no money", r" do not have (the|any|enough)? ?(money|funds|cash)", r" broke ",
                 r" struggling", r" (hard|tough|difficult) time", r" divorce", r" funeral", r" passed away",
                 r" family emergency", r" (cannot|unable to|not able to) pay", r" (short|tight) on (money|cash)",
                 r" money is tight", r" bills to pay", r" not enough money"),
}
REFUSE = (
    r" (will not|am not going to|not going to|refuse to|never going to|will never|never) pay",
    r" not paying", r" no way", r" forget it", r" do not (want|plan|intend) to pay",
    r" you (will|are) not (get|getting)", r" sue me", r" do not care", r" not interested",
    r" not my problem", r" (i|we) (refuse|decline)", r" not going to happen", r" take me to court",
    r" (will not|wont) be paying", r" not a (cent|penny|dime)", r" no intention", r" never see (that|the|your|any) money",
    r" do not expect (any )?(money|payment|a cent|a penny)", r" (not|never) (giving|going to give) you (anything|a cent|money)",
)
PARTIAL = (
    r" (part|some|portion|half|a bit|a little|piece) of (it|the|that|what|my|this)", r" partial",
    r" only (pay|afford|manage|do|send|give)", r" (pay|send|do|give) (just|only)", r" the minimum",
    r" installment", r" in (two|three|four) (payments|parts|installments|goes)", r" in (parts|pieces|chunks)",
    r" payment plan", r" a little at a time", r" the rest (later|on|next|in|by|after)", r" half (now|today|be|is|of|would)",
    r" would half",
    r" (can|could) (pay|do|send|manage|afford) (just )?(about )?(\$|\d|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|a hundred)",
    r" (some|a little) (now|today|money) ", r" half now", r" split (it|the payment)",
)
PAY_WORDS = r" (pay|paying|payment|send|sending|transfer|settle|take care of|deposit|wire|handle|cover|clear|do it|do that|get it done|make it)"
IMMEDIATE = (r" right now", r" right away", r" immediately", r" as we speak", r" straight away", r" this minute",
             r" (pay|paying|do it|send it|transfer it|pay it|pay that) (now|today|tonight)", r" (now|today|tonight) ", r" this (morning|afternoon|evening)",
             r" i am (paying|doing it|logging in|on it)", r" within the hour", r" in an hour")
ASAP = (r" as soon as (possible|i can)", r" asap", r" soon", r" quickly", r" (first|earliest) (chance|opportunity)",
        r" when i get paid", r" (next |my )?pay ?(day|check|cheque)", r" when i (have|get) (the )?money")
LATER = (r" later", r" in a (bit|while|little while)", r" after work", r" (at )?some point", r" eventually",
         r" get (to|around to) it", r" when i get a chance", r" when i can")
HEDGES = (r" try", r" maybe", r" probably", r" hopefully", r" (see|think) (if|about)", r" might", r" possibly",
          r" not sure", r" i guess", r" perhaps", r" we will see")
AFFIRM = (r"^ (mm hmm|mhm|yes|yeah|yep|yup|ya|speaking|correct|right|sure|ok|okay|uh huh|of course|certainly|indeed|absolutely|that is right|go ahead|it is)",
          r" (that is|this is|it is) (me|him|her|he|she)", r" (i am|it is) (him|her|he|she|[a-z]+ speaking)", r" speaking ",
          r" that is correct", r" you got (him|her|me)")
DENY = (r"^ (no|nope|nah|negative|not really|incorrect)", r" that is not (right|correct)", r" not me ")

_CURRENCY = r"(dollars?|bucks|usd|yuan|rmb|pounds?|euros?)"


def _amount(norm: str) -> Decimal | None:
    m = re.search(r"\$ ?(\d[\d,]*(?:\.\d{1,2})?)", norm)
    if m:
        return Decimal(m.group(1).replace(",", ""))
    tokens = norm.split()
    index = 0
    while index < len(tokens):
        if not is_en_number_word(tokens[index]) or tokens[index] == "and":
            index += 1
            continue
        run = []
        start = index
        while index < len(tokens) and is_en_number_word(tokens[index]):
            run.append(tokens[index])
            index += 1
        while run and run[-1] == "and":
            run.pop()
        after = tokens[index] if index < len(tokens) else ""
        before = tokens[start - 1] if start else ""
        if after in ("days", "day", "weeks", "week", "th", "st", "nd", "rd", "o", "clock", "minutes", "hours", "months", "percent"):
            continue
        is_money = bool(re.fullmatch(_CURRENCY, after)) or before in ("pay", "send", "transfer", "about", "around", "do",
                                                                         "only", "just", "maybe",
                                                                         "afford", "deposit", "manage", "give")
        if not is_money:
            continue
        value = en_words_to_number([w.replace(",", "") for w in run])
        if value is None or value == 0:
            continue
        cents = re.match(r" and ((?:[a-z]+ ?){1,3}) cents", " " + " ".join(tokens[index + 1:]) + " ")
        amount = Decimal(value)
        if cents and (c := en_words_to_number(cents.group(1).split())) is not None and c < 100:
            amount += Decimal(c) / 100
        m2 = re.fullmatch(r"\d[\d,]*\.\d{1,2}", run[0]) if len(run) == 1 else None
        return Decimal(run[0].replace(",", "")) if m2 else amount
    return None


def _date_from_clauses(norm: str, today: date) -> date | None:
    """The promised date, skipping clauses that deny it ("can't today, but Friday")."""
    clauses = re.split(r" (?:but|however|though|although|,|instead|rather) ", norm)
    negative = re.compile(r" (cannot|not|no|unable|never) ")
    dates = [(bool(negative.search(c)), parse_en_date(c, today)) for c in clauses]
    for denied, found in dates:
        if found is not None and not denied:
            return found
    return None


def classify(text: str, today: date, now: datetime | None = None) -> Recognition:
    """`now` is the caller's local time (aware); without it, 10:00 UTC on `today` (tests, benchmarks)."""
    norm = normalise(text)
    if _any(STOP_CALLING, norm):
        return Recognition(Intent.STOP_CALLING)
    if _any(ASKS_HUMAN, norm):
        return Recognition(Intent.ASKS_HUMAN)
    if _any(WRONG_NUMBER, norm):
        return Recognition(Intent.WRONG_NUMBER)
    if _any(CALLBACK, norm):
        local_now = now or datetime.combine(today, time(10), tzinfo=timezone.utc)
        third_party = _any(THIRD_PARTY, norm) or bool(re.search(r" (he|she|him|her) ", norm))
        return Recognition(Intent.CALLBACK, callback_at=en_callback_time(text, local_now),
                           tags=("third_party",) if third_party else ())
    if _any(THIRD_PARTY, norm):
        return Recognition(Intent.THIRD_PARTY)
    if _any(ALREADY_PAID, norm) and not re.search(r" (will|going to|gonna|can|could) pay", norm):
        return Recognition(Intent.ALREADY_PAID)
    short_no = re.match(r" (no|nope|nah)\b", norm) and len(norm.split()) <= 5 and not re.search(
        r" (debt|owe|loan|amount|balance|bill|mine|borrow)", norm)
    if _any(DISPUTE, norm) and not short_no:
        return Recognition(Intent.DISPUTE, willingness=0.1)
    amount = _amount(norm)
    promised = _date_from_clauses(norm, today)
    hedged = _any(HEDGES, norm)
    hardship = next((kind for kind, patterns in HARDSHIP.items() if _any(patterns, norm)), None)
    if _any(REFUSE, norm) and not (promised and not re.search(r" never ", norm)):
        return Recognition(Intent.REFUSE, willingness=0.05, hardship_kind=hardship)
    offers_amount = amount is not None and re.search(
        r" (only|just|can|could|maybe|about|around) (only )?(pay|do|send|give|manage|afford)?", norm)
    if _any(PARTIAL, norm) or offers_amount:
        return Recognition(Intent.PARTIAL_PAYMENT, willingness=0.4 if hedged else 0.65, amount=amount,
                           promised_date=promised, hardship_kind=hardship)
    if hardship is not None and not re.search(PAY_WORDS, norm):
        # "I'm unemployed right now": a time word without any payment is not a promise.
        return Recognition(Intent.HARDSHIP, willingness=0.25, hardship_kind=hardship, amount=amount)
    if promised is not None:
        immediate = promised == today and _any(IMMEDIATE, norm)
        if immediate and not hedged and not _any(LATER, norm):
            return Recognition(Intent.PROMISE_NOW, willingness=0.95, amount=amount, promised_date=promised,
                               hardship_kind=hardship, tags=("hardship",) if hardship else ())
        strength = 0.35 if hedged else (0.8 if (promised - today).days <= 3 else 0.7)
        if _any(LATER, norm) and not hedged:
            strength = 0.5
        return Recognition(Intent.PROMISE_LATER, willingness=strength, amount=amount, promised_date=promised,
                           hardship_kind=hardship, tags=("hardship",) if hardship else ())
    if hardship is not None:
        return Recognition(Intent.HARDSHIP, willingness=0.25, hardship_kind=hardship, amount=amount)
    if _any(ASAP, norm):
        return Recognition(Intent.PROMISE_LATER, willingness=0.35 if hedged else 0.6, amount=amount)
    if _any(LATER, norm) and (re.search(PAY_WORDS + "|" + r" (i will|will do|okay|ok|fine|sure)", norm)
                              or len(norm.split()) <= 4):
        return Recognition(Intent.PROMISE_LATER, willingness=0.35 if hedged else 0.5, amount=amount)
    if re.search(PAY_WORDS, norm) and re.search(r" (i will|i am going to|i can|i could|will do|let me|i would like to|i want to)", norm) \
            and not re.search(r" (how|where|what|why) ", norm):
        return Recognition(Intent.PROMISE_LATER, willingness=0.35 if hedged else 0.55, amount=amount)
    if re.search(r" (think about it|let me think|we will see|i will see|i will consider|not sure when)", norm):
        # No refusal, no commitment: the seeds' weak repayment intent.
        return Recognition(Intent.PROMISE_LATER, willingness=0.3, amount=amount)
    if _any(DENY, norm):
        return Recognition(Intent.DENY)
    if _any(AFFIRM, norm):
        return Recognition(Intent.AFFIRM)
    return Recognition(Intent.NOT_UNDERSTOOD)
