"""Script QA: forbidden content in prompts and SMS templates, in Mandarin and English.

The phrase list is maintained here, one category per rule source. Categories follow the CBA 2026
collection guideline's forbidden list (impersonating courts/police/government, threats, insults, fake
"blacklists", exaggerated legal consequences, extra fees, pushing new borrowing) and 15 U.S.C. 1692d-e
(harassment, false representation). Third-party nodes may not mention the debt at all (GB/T 45251;
FCA CONC 7.9.7R). `find_forbidden` is also used for SMS templates: keep its signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dialer.bot.script import THIRD_PARTY_VALUES, ScriptError, load_script


@dataclass(frozen=True)
class Finding:
    category: str
    phrase: str          # the text that matched
    message: str
    where: str = ""      # script state / prompt id, when known


_CATEGORY_MESSAGES = {
    "threat": "threatens the person (harm, exposure, visits, telling others)",
    "impersonation": "impersonates a court, the police or a government body",
    "fake_blacklist": "mentions a 'blacklist' the lender cannot put anyone on",
    "exaggerated_legal": "states criminal or legal consequences a collector cannot impose",
    "insult": "insults or demeans the person",
    "extra_fee": "asks for a fee not in the contract",
    "new_borrowing": "pushes the person to borrow to repay",
    "third_party_disclosure": "mentions the debt to a possible third party",
}

FORBIDDEN: dict[str, dict[str, tuple[str, ...]]] = {
    "zh": {
        "threat": (r"上门", r"找到你家", r"去你(家|单位|公司)", r"让你好看", r"后果自负", r"弄死", r"打断", r"曝光你", r"通知你的?(亲友|家人|同事|领导|朋友)",
                   r"告诉你的?(家人|同事|领导|朋友)", r"爆(你)?通讯录", r"发给你(所有|的)?联系人", r"走着瞧", r"小心点", r"你等着", r"全家"),
        "impersonation": (r"(我是|我们是|这里是|本人是).{0,8}(法院|公安|派出所|警察|检察院|政府|银保监|金融监管|司法)", r"法院传票", r"逮捕令",
                          r"立案通知", r"公安局通知", r"警方已"),
        "fake_blacklist": (r"黑名单", r"失信(被执行)?人?名单"),
        "exaggerated_legal": (r"坐牢", r"判刑", r"(刑事)?拘留", r"抓(你|捕)", r"刑事责任", r"诈骗罪", r"立即起诉", r"马上起诉", r"冻结你(所有|的)"),
        "insult": (r"老赖", r"骗子", r"无赖", r"不要脸", r"废物", r"滚", r"去死", r"傻[逼瓜子]", r"贱", r"垃圾", r"混蛋", r"丢人"),
        "extra_fee": (r"手续费", r"上门费", r"催收费", r"额外(费用|收费)", r"加收", r"服务费", r"保证金"),
        "new_borrowing": (r"借钱还", r"以贷养贷", r"去借", r"网贷", r"套现", r"找(朋友|亲戚|家人)借", r"借新还旧", r"撸口子", r"再贷", r"办一张新卡"),
    },
    "en": {
        "threat": (r"come to your (house|home|work|office)", r"you will regret", r"or else", r"tell your (family|employer|boss|neighbou?rs|friends)",
                   r"contact your (employer|family|boss|neighbou?rs|friends)", r"we know where you", r"embarrass you", r"make your life"),
        "impersonation": (r"(this is|we are|i am|calling from) (the |an? )?(police|sheriff|court|fbi|irs|government|attorney general|officer)",
                          r"court order", r"warrant", r"law enforcement", r"legal department of the court"),
        "fake_blacklist": (r"black ?list",),
        "exaggerated_legal": (r"arrest", r"\bjail\b", r"prison", r"criminal (charges|case|record)", r"seize your", r"garnish", r"sued today",
                              r"lawsuit (will be|has been) filed", r"deport"),
        "insult": (r"deadbeat", r"loser", r"stupid", r"idiot", r"\bliar\b", r"scum", r"shame on you", r"pathetic", r"worthless", r"irresponsible"),
        "extra_fee": (r"(processing|collection|convenience|extra|additional|administrative|service) (fee|charge)",),
        "new_borrowing": (r"borrow (the money|from|money)", r"take out (a|another|a new) loan", r"payday loan", r"cash advance",
                          r"use another (credit )?card", r"ask your (family|friends|relatives) for (the )?money", r"new loan"),
    },
}

# Words that reveal a debt; used only on states a third party can reach.
DEBT_WORDS = {
    "zh": (r"欠款", r"欠", r"逾期", r"债", r"还款", r"账单", r"金额", r"贷款", r"催收", r"利息", r"征信", r"额度"),
    "en": (r"\bdebts?\b", r"\bowe", r"overdue", r"past due", r"payment", r"balance", r"\bloan", r"collection", r"\bbills?\b",
           r"\bamount", r"arrears", r"interest", r"credit"),
}


def _lang(language: str) -> str:
    return "zh" if language.lower().startswith("zh") else "en"


def find_forbidden(text: str, language: str) -> list[Finding]:
    """Forbidden phrases in one prompt or SMS template, in the given language (zh-CN / en-US)."""
    lang = _lang(language)
    lowered = text.lower()
    findings: list[Finding] = []
    for category, patterns in FORBIDDEN[lang].items():
        for pattern in patterns:
            for match in re.finditer(pattern, lowered):
                findings.append(Finding(category, text[match.start():match.end()], _CATEGORY_MESSAGES[category]))
    return findings


def find_debt_mentions(text: str, language: str) -> list[Finding]:
    lowered = text.lower()
    return [Finding("third_party_disclosure", text[m.start():m.end()], _CATEGORY_MESSAGES["third_party_disclosure"])
            for pattern in DEBT_WORDS[_lang(language)] for m in re.finditer(pattern, lowered)]


def check_script(path: str | Path) -> list[Finding]:
    """All findings for one script file: structure errors, forbidden phrases, debt words on third-party paths."""
    try:
        script = load_script(path)
    except ScriptError as exc:
        return [Finding("structure", "", str(exc), str(path))]
    findings: list[Finding] = []
    for prompt_id, text in script.prompts.items():
        for finding in find_forbidden(text, script.language):
            findings.append(Finding(finding.category, finding.phrase, finding.message, f"prompt '{prompt_id}'"))
    third_party_reachable: set[str] = set()
    for node in script.nodes.values():
        if node.mark.get("party") in THIRD_PARTY_VALUES:
            stack = [node.name]
            while stack:
                name = stack.pop()
                if name not in third_party_reachable:
                    third_party_reachable.add(name)
                    stack.extend(script.successors(script.nodes[name]))
    for name in sorted(third_party_reachable):
        for prompt_id in script.nodes[name].say:
            for finding in find_debt_mentions(script.prompts[prompt_id], script.language):
                findings.append(Finding(finding.category, finding.phrase, finding.message,
                                        f"state '{name}' prompt '{prompt_id}'"))
    return findings
