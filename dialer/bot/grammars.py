"""JSGF grammars for the English listening steps (pocketsphinx).

With a grammar per question pocketsphinx was exact and fast here (~0.02-0.1 s per utterance); open
vocabulary was poor (reference/DEPENDENCIES.md). The grammars cover what the intent rules in
`nlu_en` understand; the recogniser's text then goes through the same rules as any other text.

pocketsphinx expands every reference to a rule into its own copy of that rule's states. The
`payment` step used to write each intent with its own `[<amount>] [<when>]` tail and a `<callback>`
with three `<at>`s: amounts and dates were copied ~10 times (4,100 states, 39,000 transitions). It
is now one answer shape, "opening, then an optional amount, then an optional time", so each
sub-grammar appears once or twice (1,900 states); intents that never carry an amount or a date are
fixed phrases. The text may be a little freer than before ("i will send it two hundred dollars"),
which the intent rules read like any other text.
"""

from __future__ import annotations

_SHARED = """
<filler> = um | uh;
<lead> = sorry | hello | hi | oh | well | hey | excuse me | listen;
<stop> = stop calling [me] | do not call [me] [again] | please stop calling [me] | remove my number | take me off your list | leave me alone;
<human> = [i want to | can i | let me] (speak | talk) to a (real person | human | person | representative | agent) | [a] real person [please] | agent | representative | operator;
<digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;
<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen | nineteen;
<tens> = twenty | thirty | forty | fifty | sixty | seventy | eighty | ninety;
<below100> = <digit> | <teen> | <tens> [<digit>];
<day> = monday | tuesday | wednesday | thursday | friday | saturday | sunday;
<hour> = one | two | three | four | five | six | seven | eight | nine | ten | eleven | twelve;
"""

# Amounts, dates and callback times as the identity and confirm steps write them.
_WHEN_RULES = """
<number> = <below100> | [a | <digit>] hundred [and] [<below100>] | (<below100> | a) thousand [[<digit>] hundred] [and] [<below100>] | <teen> hundred [and] [<below100>];
<ordinal> = first | second | third | fourth | fifth | sixth | seventh | eighth | ninth | tenth | fifteenth | twentieth | thirtieth | twenty first | twenty fifth;
<when> = today | tonight | right now | now | tomorrow | the day after tomorrow | next <day> | on <day> | this <day> | by <day> | <day>
       | next week | this weekend | at the end of the month | end of the month | next month | on the <ordinal> | in (two | three | a few | a couple of) days
       | as soon as possible | as soon as i can | soon | later | when i get paid | on payday;
<at> = (at | after | around) <hour> [thirty] [a m | p m | o'clock] | <hour> [thirty] (a m | p m)
     | tomorrow [morning | afternoon | evening] | tonight | this (morning | afternoon | evening)
     | in (an hour | half an hour | two hours | <below100> (hours | minutes)) | later | on <day>;
<callback> = [i am (busy | driving | in a meeting | at work)] [please | can you] (call | ring) (me | him | her) [back] <at>
     | [i am (busy | driving | in a meeting | at work)] [please | can you] call back [<at>] | i am (busy | driving | in a meeting)
     | (he | she) (is | will be) back <at> | try (me | him | her) again <at> | [sorry] this is not a good time;
"""

# A time as the answer to a callback question, where no "call me" comes first: the clock alone
# ("six", "six thirty p m", "half past six"), with or before a day or a part of the day, or an interval.
_CLOCK_RULES = """
<how> = make it | how about | let us say | say | maybe | try;
<clock> = <hour> [thirty | fifteen | forty five | o'clock] [a m | p m] | (half | quarter) past <hour> | quarter to <hour> | noon | midday;
<dayish> = today | tonight | tomorrow [morning | afternoon | evening] | the day after tomorrow | [on | next | this] <day>
         | this (morning | afternoon | evening) | in the (morning | afternoon | evening) | after work;
<clock_time> = <clock> [<dayish>] | <dayish> [at <clock>] | in (an hour | half an hour | two hours | <below100> (hours | minutes));
"""

_GRAMMARS = {
    "identity": """
public <utt> = [<lead>] [<filler>] (<yes> | <no> | <wrong> | <third> | <stop> | <human> | <callback>) [<filler>];
<yes> = yes | yeah | yep | speaking | this is he | this is she | that is me | it is me | yes speaking | yes this is [him | her | me] | correct;
<no> = no | nope | not me | no it is not;
<wrong> = wrong number | you have the wrong number | i do not know (him | her | that person) | there is no one here by that name | nobody by that name;
<third> = (he | she) is not (here | home | available) | this is his (wife | mother | father | son | brother) | this is her (husband | mother | father | daughter | sister) | i can take a message;
""" + _WHEN_RULES,
    "digits": """
public <utt> = [<lead>] [<filler>] [it is | my year of birth is | i was born in | the last four digits are] (<year> | <digit> <digit> <digit> <digit>) [<filler>] | <stop> | <human> | wrong number;
<year> = nineteen <tens> [<digit>] | two thousand [and] [<below100>] | nineteen hundred [and] [<below100>];
""",
    "confirm": """
public <utt> = [<lead>] [<filler>] (<yes> | <no> | <promise> | <stop> | <human> | <callback>) [<filler>];
<yes> = yes | yeah | yep | correct | that is right | right | sure | ok | okay | that is correct | i will | of course;
<no> = no | nope | that is not right | not really | no i can not | no i will not;
<promise> = i will pay [<amount>] [<when>] | [i can pay] <when> | make it <when>;
<amount> = <number> dollars [and <below100> cents] | <number> | all of it | the full amount | the minimum;
""" + _WHEN_RULES,
    # "We will call you back at six p m. Is that right?": yes, no, or no with the right time ("no
    # seven thirty", "make it tomorrow morning"), which `nlu_times.callback_answer` reads as the time.
    "callback_confirm": """
public <utt> = [<lead>] [<filler>] (<yes> | (<no> [<how>] | <how>) <clock_time> | <no> | <callback> | <stop> | <human> | <wrong>) [<filler>];
<yes> = [yes | yeah] (that is right | that is correct | correct | right) | yes [please] | yeah | yep | sure | ok | okay | of course;
<no> = no | nope | that is not right | that is wrong | wrong time | not then | no sorry;
<wrong> = wrong number | you have the wrong number;
""" + _WHEN_RULES + "\n" + _CLOCK_RULES,
    # "What time should we call you?": a time alone ("six", "six thirty p m", "tomorrow at nine",
    # "in an hour"), a "call me at ...", or no time at all (the script then uses the default).
    "callback_time": """
public <utt> = [<lead>] [<filler>] ([no] [<how>] [at | around | after] <clock_time> [please] | <callback> | <unsure> | <no> | <stop> | <human> | <wrong>) [<filler>];
<no> = no | nope | no thank you | not now;
<unsure> = i do not know | i am not sure | any time | anytime | whenever | it does not matter | later;
<wrong> = wrong number | you have the wrong number;
""" + _WHEN_RULES + "\n" + _CLOCK_RULES,
    # One answer shape (see the module docstring): <fixed> phrases carry no amount or date; a payment
    # opening takes one shared amount and time tail, a callback opening the same time rule.
    "payment": """
public <utt> = [<lead>] [<filler>] (<fixed> | <pay> [<amount>] [<time>] [and the rest later] | <call> [<time>] | <time>) [<filler>];
<fixed> = yes | yeah | sure | ok | okay | of course | no | nope | not today | i am paying [it] [right now | now | today]
        | i (already paid | have already paid | paid [it] yesterday | paid [it] last week | made the payment [already]) | it is already paid
        | i (will not | am not going to | refuse to) pay [you | that | it] | i am not paying [that | you] | no way
        | i (lost my job | am sick | am in the hospital | am unemployed | can not afford it | do not have the money | have no money | am in quarantine | was laid off)
        | (that | this) is not my debt | i never borrowed [that | any] money | the amount is wrong | i do not owe (you | that | anything) | i dispute (this | that) [debt]
        | wrong number | (he | she) is not (here | home | available) | <stop> | <human>
        | i am (busy | driving | in a meeting) | [sorry] this is not a good time;
<pay> = [yes] [i] (will | can | am going to) pay [it | that | you] | i will (do it | send it | transfer it) | i will try to pay
      | i can (only pay | pay part of it | pay half | pay some of it | pay the minimum);
<call> = [i am (busy | driving | in a meeting | at work)] [please | can you] ((call | ring) (me | him | her) [back] | call back)
       | (he | she) (is | will be) back | try (me | him | her) again;
<amount> = <number> dollars [and <below100> cents] | <number> | all of it | the full amount | the minimum;
<number> = <below100> | [a | <digit>] hundred [and] [<below100>] | (<below100> | a) thousand [[<digit>] hundred] [and] [<below100>] | <teen> hundred [and] [<below100>];
<time> = today | tonight | right now | now | tomorrow [morning | afternoon | evening] | the day after tomorrow | [next | on | this | by] <day>
       | next week | this weekend | [at] [the] end of the month | next month | on the <ordinal>
       | in (an hour | half an hour | two hours | (two | three | a few | a couple of) days | <below100> (hours | minutes))
       | as soon as possible | as soon as i can | soon | later | when i get paid | on payday
       | (at | after | around) <hour> [thirty] [a m | p m | o'clock] | <hour> [thirty] (a m | p m) | this (morning | afternoon | evening);
<ordinal> = first | second | third | fourth | fifth | sixth | seventh | eighth | ninth | tenth | fifteenth | twentieth | thirtieth | twenty first | twenty fifth;
""",
}


def grammar_names() -> list[str]:
    return sorted(_GRAMMARS)


def jsgf(name: str) -> str:
    """The JSGF text of a listening step's grammar; unknown names fall back to `payment`."""
    body = _GRAMMARS.get(name, _GRAMMARS["payment"])
    return f"#JSGF V1.0;\ngrammar {name};\n{body.strip()}\n{_SHARED.strip()}\n"
