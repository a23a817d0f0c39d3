"""Human-looking text: video captions, comments and LIVE titles (EN and TH)."""

from __future__ import annotations

import numpy as np

_HOOK_OPENERS_EN = {
    "question": ["Why did nobody tell me about this {p}?", "Is this the best {p} on TikTok Shop?",
                 "Have you tried a {p} yet?", "Do you really need a {p}?"],
    "problem": ["Tired of a messy {c} corner? 😩", "My {c} was a disaster until this", "Struggling with clutter?"],
    "result-first": ["Look at the difference ✨", "Before vs after using this {p} 😳", "The results speak for themselves"],
    "unboxing": ["Unboxing the viral {p} 📦", "ASMR unboxing: {p}", "New haul just arrived 📦"],
    "price-shock": ["You won't believe the price of this {p} 💸", "Only {price}?! 🤯", "Cheaper than a coffee ☕"],
    "none": ["My new {p}", "{p} review", "Sunday reset with my {p}", "Small things that make life easier"],
}
_HOOK_OPENERS_TH = {
    "question": ["ทำไมไม่มีใครบอกเรื่อง {p} นี้เลย?", "{p} ตัวนี้ดีจริงไหม?", "เคยลองหรือยัง?"],
    "problem": ["ปัญหาบ้านรก แก้ได้ด้วยอันนี้ 😩", "ใครมีปัญหาแบบนี้บ้าง?"],
    "result-first": ["ดูความต่างสิ ✨", "ก่อน vs หลัง 😳"],
    "unboxing": ["แกะกล่อง {p} 📦", "ของมาส่งแล้ว 📦"],
    "price-shock": ["ราคานี้จริงดิ?! 🤯", "ถูกกว่ากาแฟแก้วเดียว 💸"],
    "none": ["รีวิว {p}", "ของใช้ในบ้านที่ชอบ", "ของดีบอกต่อ"],
}
_CTA_EN = ["Tap the orange basket 🧡", "Link in the shop tab 👇", "Grab yours before it sells out!", "", "", ""]
_CTA_TH = ["กดตะกร้าเลย 🧡", "สั่งได้ที่ตะกร้าด้านล่าง 👇", "", ""]
_TAGS_EN = ["#tiktokmademebuyit", "#homehacks", "#cleantok", "#fyp", "#tiktokshop", "#amazonfinds", "#organisation",
            "#beautytok", "#skincare", "#homedecor", "#founditontiktok", "#BlackFridayDeals"]
_TAGS_TH = ["#ของดีบอกต่อ", "#รีวิว", "#tiktokshopth", "#ของใช้ในบ้าน", "#fyp", "#บิวตี้", "#ป้ายยา", "#ของมันต้องมี"]

_COMMENTS_EN = ["Where did you get this?", "Just ordered one!", "Does it work on {c}?", "Mine arrived today, love it",
                "How long does delivery take?", "Is it worth it?", "Added to basket 🧡", "Does it come in other colours?",
                "I need this in my life", "Bought it last week, it's decent", "Mine broke after a week tbh",
                "The {p} looks so good", "Can you do a review after a month?", "What size is it?", "Obsessed 😍"]
_COMMENTS_TH = ["ซื้อที่ไหนคะ", "สั่งแล้วค่ะ", "ใช้ดีไหมคะ", "ของมาถึงแล้ว ชอบมาก", "ส่งกี่วันคะ", "มีสีอื่นไหม",
                "ป้ายยาสำเร็จ", "ราคาเท่าไหร่คะ", "ใช้ไปสองอาทิตย์แล้ว โอเคเลย", "อยากได้มาก 😍"]
FAKE_COMMENTS = ["nice!!", "wow 😍", "🔥🔥🔥", "great", "amazing product", "❤️❤️❤️", "love it", "so good", "👍👍", "nice video"]


def captions(rng: np.random.Generator, hooks: np.ndarray, languages: np.ndarray, product_names: np.ndarray,
             categories: np.ndarray, prices: np.ndarray) -> np.ndarray:
    out = []
    for hook, lang, p, c, price in zip(hooks.tolist(), languages.tolist(), product_names.tolist(),
                                       categories.tolist(), prices.tolist()):
        openers = (_HOOK_OPENERS_TH if lang == "th" else _HOOK_OPENERS_EN)[hook]
        opener = openers[int(rng.integers(len(openers)))].format(p=p.lower(), c=c.lower(), price=price)
        cta_list = _CTA_TH if lang == "th" else _CTA_EN
        cta = cta_list[int(rng.integers(len(cta_list)))]
        tags = _TAGS_TH if lang == "th" else _TAGS_EN
        chosen = rng.choice(len(tags), size=int(rng.integers(2, 6)), replace=False)
        parts = [opener, cta, " ".join(tags[i] for i in sorted(chosen.tolist()))]
        out.append(" ".join(x for x in parts if x))
    return np.array(out, dtype=object)


def comments_for(rng: np.random.Generator, n: int, fake: bool, language: str, product: str, category: str) -> list[str]:
    if fake:
        # Bought engagement: a tiny generic vocabulary, heavily duplicated.
        pool = FAKE_COMMENTS[: int(rng.integers(3, 6))]
        return [pool[int(i)] for i in rng.integers(0, len(pool), size=n)]
    pool = _COMMENTS_TH if language == "th" else _COMMENTS_EN
    out = []
    for i in rng.integers(0, len(pool), size=n):
        text = pool[int(i)].format(p=product.lower(), c=category.lower())
        if rng.random() < 0.2:
            text += " " + ["😂", "🙏", "✨", "!!", "🧡"][int(rng.integers(5))]
        out.append(text)
    return out


def live_titles(rng: np.random.Generator, n: int, markets: np.ndarray, event_names: list[str]) -> np.ndarray:
    out = []
    for m, ev in zip(markets.tolist(), event_names):
        if m == "TH":
            base = ["ไลฟ์สดลดราคา", "ของดีราคาถูก", "โปรแรงเฉพาะในไลฟ์", "รีวิวของใช้ในบ้าน"][int(rng.integers(4))]
        else:
            base = ["Home finds LIVE", "Flash deals in LIVE only", "Cleaning haul & deals", "Beauty tools LIVE"][
                int(rng.integers(4))]
        out.append(f"{ev} {base}".strip() if ev else base)
    return np.array(out, dtype=object)
