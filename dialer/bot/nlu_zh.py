"""Mandarin intent rules (zh-CN). Phrases are regular expressions over the text without spaces and
punctuation; the willingness grades follow seed 000 ("我现在就去还" > "我尽快还款" > "过一会去")."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from decimal import Decimal

from dialer.bot.intents import Intent, Recognition
from dialer.bot.nlu_dates import parse_zh_date
from dialer.bot.nlu_numbers import ZH_NUMERAL_CHARS, zh_numeral_to_number
from dialer.bot.nlu_times import zh_callback_time

_NUM = rf"[0-9{ZH_NUMERAL_CHARS}.]+"

STOP_CALLING = (
    r"(别|不要|不准|不许|甭|莫)再?(给我)?(打|来电|打电话|打过来|联系|骚扰|烦)", r"再打.{0,4}(投诉|报警)", r"停止(拨打|呼叫|来电|联系)",
    r"(删掉|删除)(我的)?(号码|电话)", r"把?我的?(号码|电话)(删|去掉|移除)", r"以后(都)?别", r"不要再来", r"别再来", r"拉黑", r"取消(提醒|来电|呼叫)",
    r"(不|别)想再接到", r"不需要(再)?(打|提醒)",
)
ASKS_HUMAN = (r"人工", r"真人", r"客服", r"转接", r"工作人员", r"坐席", r"机器人吗", r"是不是机器人", r"(找|叫)你们.{0,2}(领导|经理|负责人|主管)",
              r"(和|跟|让)(人|活人|你们的人)(说|讲|谈)", r"有没有人", r"转给(人工|客服|真人|工作人员|你们(领导|经理))")
WRONG_NUMBER = (r"打错", r"不认识", r"没(有)?这(个)?人", r"不是(他|她)的(电话|号码|手机)", r"找错(人)?了", r"查无此人",
                r"不知道你(说|找)的?是谁", r"我不叫", r"新办的", r"刚换的号", r"这(个)?号(码)?不是(他|她)", r"不是这个人", r"你找谁", r"这里没有叫")
THIRD_PARTY = (
    r"我是(他|她)(的)?(妈|爸|母亲|父亲|老婆|老公|妻子|丈夫|爱人|儿子|女儿|哥|姐|弟|妹|同事|朋友|室友|领导|邻居|家人|亲戚|对象|奶奶|爷爷|舅|姨)",
    r"(他|她)(现在)?在?(不在|出去|出门|在上班|上班去|在忙|睡觉|睡了|出差|没在|不方便|在开会|开车|在医院|不在家|回老家)",
    r"(帮|替)(你|您|他|她)?(转告|带话|传达)", r"我(会)?(转告|告诉)(他|她)", r"(有|什么)事(跟|和|对)我说", r"我替(他|她)",
    r"(他|她)的(手机|电话)在我", r"(他|她)手机在我", r"我不是(他|她)本人", r"我不是(他|她)", r"本人不在", r"留个?言",
)
# A time to call back, from the debtor or whoever answered ("他晚上六点回来"). 打钱/打款/打过去 mean
# paying, not phoning, so they are excluded. Checked after opt-out and before who-is-on-the-line.
CALLBACK = (
    r"再(打|来电|联系|给我打|打电话|打过来|打给我)(?!钱|款|过去|给你)", r"(晚点|晚些|稍后|等会儿?|待会儿?|一会儿?|回头|过会儿?|改天)(再)?(打|来电|联系|给我打|打给我|打电话|打过来)(?!钱|款|过去|给你)",
    r"打给我(?!钱)", r"给我打(电话|过来)?(?!钱|款)", r"回(个)?电话?给我", r"(重新|再)?打回来",
    r"(他|她).{0,6}(点半?|点一刻|小时|明天|晚上|下午|上午|中午|一会儿?|待会儿?|晚点)(就|才|能|会|以后|之后)?(回来|下班|有空|在家|回家)",
    r"(我|他|她).{0,8}(之后|以后)有空",
)
# The caller is busy now: a callback in two hours, unless it is someone else's whereabouts
# ("他在开会" is a third party answering, with nothing asked).
BUSY = (r"我(现在)?(在|正在)(开会|忙|开车|上课|工作|上班|路上|外面)(?!.{0,6}(还|付|转|交))", r"^(现在|这会儿?)(不方便|没空|忙)",
        r"我(现在|这会儿?)?(不方便|没空)(接|说|讲|聊)?")
ALREADY_PAID = (r"已经.{0,4}(还|转|付|交|缴|结清|打)", r"还过了", r"还清了",
                r"(昨天|前天|刚才|刚刚|刚|上午|早上|早就|前几天|上周|上个月).{0,8}(还|转|付|交)(了|过|的)",
                r"已还", r"还上了", r"结清了", r"刚(刚)?(还|转|付|交)(上|了|过)", r"(早|都)还了", r"还完了", r"付过了", r"交过了", r"转过去了", r"钱已经", r"已经处理")
DISPUTE = (r"不是我(借|欠|办|刷|消费)", r"没借过", r"我(没|从来没)(有)?(借|办|欠|刷|申请)", r"没欠", r"不欠", r"(金额|数目|钱数|数额|账单|利息).{0,3}(不对|有问题|错|太高|太多|算错)",
           r"搞错了", r"弄错了", r"不认", r"不承认", r"被盗", r"冒用", r"盗刷", r"没有这张卡", r"诈骗", r"骗子", r"有异议", r"不合理",
           r"乱收费", r"(哪来|哪里来|怎么会有)的?(欠款|账|钱)", r"我要投诉", r"投诉你们")
HARDSHIP = {
    "job_loss": (r"失业", r"没(有)?工作", r"被裁", r"裁员", r"下岗", r"没(有)?收入", r"工资(没|还没)发", r"没发工资", r"(公司|厂子?|店)(倒闭|关门|破产|停工)",
                 r"生意(不好|亏|黄了|做不下去)", r"被开除", r"辞退", r"找不到工作", r"停薪", r"降薪"),
    "illness": (r"生病", r"住院", r"病了", r"发烧", r"手术", r"看病", r"医院", r"身体不好", r"癌", r"治疗", r"车祸", r"受伤", r"骨折", r"化疗"),
    "quarantine": (r"隔离", r"封控", r"封城", r"疫情", r"一线", r"抗疫", r"阳了", r"新冠", r"核酸", r"封了"),
    "no_money": (r"没钱", r"手头(紧|有点紧|比较紧)", r"困难", r"拿不出", r"周转不(开|过来)", r"还不起", r"还不上", r"家里出(事|了事)", r"出事了",
                 r"资金紧张", r"实在没有", r"没有钱", r"穷", r"揭不开锅", r"离婚", r"去世", r"丧事"),
}
REFUSE = (r"拒绝", r"(?<!不是)不(想|会|打算|准备|愿意)?还(?!不|款了吗|清|上)", r"不想还", r"没打算还", r"凭什么(还|给)", r"就不还", r"爱咋咋", r"随便你们", r"告我",
          r"起诉(我)?(吧|去)", r"没门", r"休想", r"不给", r"一分(钱)?都?不", r"别想", r"不管了", r"不理", r"要钱没有", r"有本事")
PARTIAL = (r"一部分", r"部分", rf"先(还|给|付|转|凑|拿)个?(一点|一些|点|些|{_NUM})", r"(先|只)还利息", r"只能(还|给|拿出)", r"最低还款", r"分期", r"分(几|两|三)次", r"先给",
           r"还一半", r"一半", r"少还", r"还点", r"先还最低")
PAY_WORDS = r"还|转|付|处理|交|缴|打钱|充|结清|补上|存|给你们"
IMMEDIATE = r"现在|马上|立刻|立即|立马|这就|今天|今晚|当天|下午就|晚上就|等下就|这会儿"
ASAP = r"尽快|赶紧|抓紧|尽早|早点|赶快|快点|发工资|发了工资|工资到|有钱(了)?就|钱到|周转过来"
LATER = r"过一会|一会儿|待会|等会|晚点|晚些|回头|改天|过阵子|再说|有空|等我忙完"
HEDGES = r"尽量|争取|看看|试试|可能|估计|也许|大概|应该能|再看|想想|考虑|不一定|说不准|不好说"
AFFIRM = (r"^(是|对|嗯|好|行|可以|没错|在的|你说|请讲|我就是|是我|我是|是的|对的|好的|本人|对啊|是啊|嗯嗯|恩)")
DENY = (r"^(不是|不对|没有|不行|不用|不要|不需要|没|错了)")
REPEAT_OR_QUESTION = r"再说一(遍|次)|重复一下|没听清|听不清|什么意思|你说什么|说什么|啥意思"


def _normalise(text: str) -> str:
    return re.sub(r"[\s，。！？、,.!?~…：:；;“”\"']+", "", text)


def _any(patterns: tuple[str, ...], text: str) -> bool:
    return any(re.search(p, text) for p in patterns)


def _amount(t: str) -> Decimal | None:
    m = re.search(rf"({_NUM})(块钱|块|元|圆|万块|rmb|人民币|美元|美金)", t)
    if not m:
        m = re.search(rf"(?:还|给|转|付|交|先还|先给|拿|凑)({_NUM})(?![号日天月点个周期次])", t)
    if not m:
        return None
    chunk = m.group(1)
    if re.fullmatch(r"[0-9.]+", chunk):
        try:
            return Decimal(chunk)
        except ArithmeticError:
            return None
    value = zh_numeral_to_number(chunk)
    if value is None or value == 0:
        return None
    if m.lastindex and m.lastindex >= 2 and m.group(2) == "万块":
        value *= 10000
    return Decimal(value)


def _date_from_clauses(text: str, today: date) -> date | None:
    """The promised date, skipping clauses that deny it ("今天还不了，明天还吧")."""
    clauses = re.split(r"[，。！？、,.!?；;\s]+|但是|但|不过|可是|只是|要不|改成|最好", text)
    for clause in clauses:
        found = parse_zh_date(clause, today)
        negated = re.search(r"(不了|不行|不到|不上|没法|没办法|不能|不可能|没钱|来不及|不够)", clause)
        if found is not None and not negated:
            return found
    return None


def classify(text: str, today: date, now: datetime | None = None) -> Recognition:
    """`now` is the caller's local time (aware); without it, 10:00 UTC on `today` (tests, benchmarks)."""
    t = _normalise(text)
    if _any(STOP_CALLING, t):
        return Recognition(Intent.STOP_CALLING)
    if _any(ASKS_HUMAN, t):
        return Recognition(Intent.ASKS_HUMAN)
    if _any(WRONG_NUMBER, t):
        return Recognition(Intent.WRONG_NUMBER)
    if _any(CALLBACK, t) or (_any(BUSY, t) and not _any(THIRD_PARTY, t)):
        local_now = now or datetime.combine(today, time(10), tzinfo=timezone.utc)
        third_party = _any(THIRD_PARTY, t) or bool(re.search(r"(他|她)", t))
        return Recognition(Intent.CALLBACK, callback_at=zh_callback_time(text, local_now),
                           tags=("third_party",) if third_party else ())
    if _any(THIRD_PARTY, t):
        return Recognition(Intent.THIRD_PARTY)
    if re.search(REPEAT_OR_QUESTION, t):
        return Recognition(Intent.NOT_UNDERSTOOD)
    future = parse_zh_date(t, today)
    if _any(ALREADY_PAID, t) and not re.search(r"(会|就去|马上|再)还", t) and not (future and future > today):
        return Recognition(Intent.ALREADY_PAID)
    if _any(DISPUTE, t):
        return Recognition(Intent.DISPUTE, willingness=0.1)
    amount = _amount(t)
    promised = _date_from_clauses(text, today)
    hedged = bool(re.search(HEDGES, t))
    hardship = next((kind for kind, patterns in HARDSHIP.items() if _any(patterns, t)), None)
    if hardship is None and _any(REFUSE, t) and not promised:
        return Recognition(Intent.REFUSE, willingness=0.05)
    if _any(PARTIAL, t):
        return Recognition(Intent.PARTIAL_PAYMENT, willingness=0.4 if hedged else 0.65, amount=amount,
                           promised_date=promised, hardship_kind=hardship)
    tags = ("hardship",) if hardship else ()
    if hardship is not None and not re.search(PAY_WORDS, t):
        # "我现在没工作": a time word without any payment is not a promise.
        return Recognition(Intent.HARDSHIP, willingness=0.25, hardship_kind=hardship, amount=amount)
    if promised is not None and not re.search(PAY_WORDS, t) and re.search(r"怎么|什么|吗|哪|谁|天气", t):
        promised = None     # "今天天气怎么样": a date word in a question is not a promise
    later = bool(re.search(LATER, t))
    if promised is not None:
        if promised == today and re.search(IMMEDIATE, t) and not hedged and not later:
            return Recognition(Intent.PROMISE_NOW, willingness=0.95, amount=amount, promised_date=promised,
                               hardship_kind=hardship, tags=tags)
        strength = 0.35 if hedged else (0.8 if (promised - today).days <= 3 else 0.7)
        return Recognition(Intent.PROMISE_LATER, willingness=strength, amount=amount, promised_date=promised,
                           hardship_kind=hardship, tags=tags)
    if hardship is not None:
        return Recognition(Intent.HARDSHIP, willingness=0.25, hardship_kind=hardship, amount=amount)
    if re.search(ASAP, t):
        return Recognition(Intent.PROMISE_LATER, willingness=0.35 if hedged else 0.6, amount=amount)
    if later:
        # "过一会去" is a promise for later today, weaker than "尽快" (seed 000).
        return Recognition(Intent.PROMISE_LATER, willingness=0.35 if hedged else 0.5, amount=amount,
                           promised_date=today)
    if re.search(PAY_WORDS, t) and re.search(r"会|去|就|好|行|可以|能|愿意|我还|一定|肯定|保证", t):
        return Recognition(Intent.PROMISE_LATER, willingness=0.35 if hedged else 0.55, amount=amount)
    if re.search(r"想想|考虑|再看|看看吧|再说吧", t):
        # "我再想想": no refusal, no commitment — the seeds' weak repayment intent (还款意向弱).
        return Recognition(Intent.PROMISE_LATER, willingness=0.3, amount=amount)
    asks = re.search(r"[?？]\s*$", text) or re.search(r"什么|啥|哪|谁|怎么", t)
    greeting_stripped = re.sub(r"^喂+", "", t)
    if re.match(r"没错|没问题", greeting_stripped):
        return Recognition(Intent.AFFIRM)
    if re.search(DENY, greeting_stripped):
        return Recognition(Intent.DENY)
    if re.search(AFFIRM, greeting_stripped) and not (asks and not re.search(r"是我|我就是|本人", t)):
        return Recognition(Intent.AFFIRM)
    return Recognition(Intent.NOT_UNDERSTOOD)
