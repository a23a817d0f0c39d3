"""Fake but realistic-looking buyer PII (names, usernames, phones, addresses) per market.

UK phone numbers use Ofcom's drama range (07700 900000-900999), reserved for fiction.
Thai phone numbers are masked the way Seller Center masks them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_UK_FIRST = ["Emma", "Olivia", "Sophie", "Chloe", "Amelia", "Jessica", "Grace", "Hannah", "Lucy", "Megan", "Ellie",
             "Charlotte", "Aisha", "Priya", "Zara", "Holly", "Katie", "Lauren", "Rebecca", "Natalie", "Jade", "Leah",
             "Molly", "Freya", "Isla", "Poppy", "Ruby", "Daisy", "Niamh", "Siobhan", "James", "Oliver", "Harry",
             "Jack", "Thomas", "Liam", "Daniel", "Ryan", "Mohammed", "Adam", "Callum", "Connor", "Josh", "Sam"]
_UK_LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
            "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke",
            "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper", "Hill", "Ward", "Hughes", "Moore",
            "Clark", "King", "Harrison", "Lewis", "Baker", "Lee", "Allen", "Morris", "Khan", "Scott", "Watson",
            "Davis", "Parker", "Bennett", "Young", "Mitchell", "Kaur", "Begum", "Murphy"]
# town, county ("State" column), postcode area
_UK_TOWNS = [("Leeds", "West Yorkshire", "LS"), ("Manchester", "Greater Manchester", "M"),
             ("Birmingham", "West Midlands", "B"), ("London", "Greater London", "E"),
             ("London", "Greater London", "SE"), ("London", "Greater London", "N"),
             ("Bristol", "Bristol", "BS"), ("Liverpool", "Merseyside", "L"), ("Sheffield", "South Yorkshire", "S"),
             ("Newcastle upon Tyne", "Tyne and Wear", "NE"), ("Nottingham", "Nottinghamshire", "NG"),
             ("Leicester", "Leicestershire", "LE"), ("Cardiff", "South Glamorgan", "CF"),
             ("Glasgow", "Glasgow City", "G"), ("Edinburgh", "City of Edinburgh", "EH"),
             ("Southampton", "Hampshire", "SO"), ("Brighton", "East Sussex", "BN"), ("Norwich", "Norfolk", "NR"),
             ("Coventry", "West Midlands", "CV"), ("Belfast", "County Antrim", "BT"), ("Reading", "Berkshire", "RG"),
             ("Milton Keynes", "Buckinghamshire", "MK"), ("Bolton", "Greater Manchester", "BL"),
             ("Stoke-on-Trent", "Staffordshire", "ST"), ("Plymouth", "Devon", "PL")]
_UK_STREETS = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane",
               "Queens Road", "Green Lane", "Manor Close", "King Street", "The Crescent", "Albert Road",
               "Orchard Way", "Meadow View", "Elm Grove", "Westfield Drive", "Chapel Street", "Springfield Road"]
_UK_EXTRA = ["", "", "", "", "Flat 2", "Flat 4B", "Apartment 12", "Unit 3"]
_UK_HOUSE_NAMES = ["", "", "", "", "", "", "Rose Cottage", "The Old Forge", "Ivy House"]
_UK_INSTRUCTIONS = ["", "", "", "", "", "", "", "Leave in the porch", "Please knock loudly",
                    "Safe place: behind the bin", "Leave with neighbour at no. 12"]

_TH_FIRST = ["สมชาย", "สมหญิง", "ณัฐพล", "ศิริพร", "กนกวรรณ", "ปิยะพงษ์", "วรรณา", "อรุณี", "ธนพร", "ชนิดา",
             "พิมพ์ชนก", "ณัฐธิดา", "สุภาวดี", "กิตติพงษ์", "จิราพร", "ปวีณา", "วีรยุทธ", "อัญชลี", "ภัทรา", "นภัสสร",
             "ธีรวัฒน์", "มณีรัตน์", "อนุชา", "รัชนี", "ศุภชัย", "ปราณี", "ชลธิชา", "ณัฐวุฒิ", "เบญจมาศ", "พรทิพย์"]
_TH_LAST = ["ใจดี", "รักไทย", "ศรีสุข", "บุญมา", "แสงทอง", "วงศ์สวัสดิ์", "สุขสวัสดิ์", "ทองดี", "มีสุข", "พูลผล",
            "เจริญศรี", "ศรีวงศ์", "อินทร์แก้ว", "จันทร์เพ็ญ", "สายสุวรรณ", "ปัญญาดี", "ชัยมงคล", "ธนากร", "แก้วมณี", "สมบูรณ์"]
_TH_ROMAN = ["mint", "fah", "ploy", "nam", "ice", "bam", "fern", "praew", "nook", "pim", "bow", "kaew", "noon", "aom",
             "jane", "beam", "toey", "gift", "may", "earn", "tong", "boss", "golf", "bank", "nat"]
# province, district, zipcode prefix
_TH_PLACES = [("กรุงเทพมหานคร", "เขตบางนา", "10260"), ("กรุงเทพมหานคร", "เขตจตุจักร", "10900"),
              ("กรุงเทพมหานคร", "เขตห้วยขวาง", "10310"), ("กรุงเทพมหานคร", "เขตบางกะปิ", "10240"),
              ("กรุงเทพมหานคร", "เขตลาดพร้าว", "10230"), ("นนทบุรี", "อำเภอเมืองนนทบุรี", "11000"),
              ("นนทบุรี", "อำเภอปากเกร็ด", "11120"), ("ปทุมธานี", "อำเภอคลองหลวง", "12120"),
              ("สมุทรปราการ", "อำเภอบางพลี", "10540"), ("ชลบุรี", "อำเภอบางละมุง", "20150"),
              ("ชลบุรี", "อำเภอศรีราชา", "20110"), ("เชียงใหม่", "อำเภอเมืองเชียงใหม่", "50000"),
              ("ขอนแก่น", "อำเภอเมืองขอนแก่น", "40000"), ("นครราชสีมา", "อำเภอเมืองนครราชสีมา", "30000"),
              ("ภูเก็ต", "อำเภอเมืองภูเก็ต", "83000"), ("สงขลา", "อำเภอหาดใหญ่", "90110"),
              ("อุดรธานี", "อำเภอเมืองอุดรธานี", "41000"), ("ระยอง", "อำเภอเมืองระยอง", "21000")]
_TH_STREETS = ["ถนนสุขุมวิท", "ถนนพหลโยธิน", "ถนนรามคำแหง", "ถนนลาดพร้าว", "ถนนเพชรบุรี", "ถนนนิมมานเหมินท์",
               "ถนนมิตรภาพ", "ถนนเจริญกรุง", "ถนนบางนา-ตราด", "ถนนรัตนาธิเบศร์"]
_TH_EXTRA = ["", "", "", "คอนโดลุมพินี ชั้น 8", "หมู่บ้านพฤกษา", "อาคาร B ห้อง 1204", "ฝากไว้ที่ป้อมยาม"]


def _pick(rng: np.random.Generator, options: list, n: int) -> np.ndarray:
    return np.array(options, dtype=object)[rng.integers(0, len(options), size=n)]


def _digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return np.char.zfill(rng.integers(0, 10**width, size=n).astype(str), width).astype(object)


def build_customers(rng: np.random.Generator, market: str, n: int) -> pd.DataFrame:
    """One row per buyer account; index = customer number within the market."""
    idx = np.arange(n)
    style = rng.random(n)
    if market == "UK":
        first = _pick(rng, _UK_FIRST, n)
        last = _pick(rng, _UK_LAST, n)
        towns = rng.integers(0, len(_UK_TOWNS), size=n)
        town = np.array([t[0] for t in _UK_TOWNS], dtype=object)[towns]
        county = np.array([t[1] for t in _UK_TOWNS], dtype=object)[towns]
        area = np.array([t[2] for t in _UK_TOWNS], dtype=object)[towns]
        district = rng.integers(1, 20, size=n).astype(str).astype(object)
        inward = (rng.integers(1, 10, size=n).astype(str).astype(object)
                  + _pick(rng, list("ABDEFGHJLNPQRSTUWXYZ"), n) + _pick(rng, list("ABDEFGHJLNPQRSTUWXYZ"), n))
        username = np.where(
            style < 0.35, "user" + _digits(rng, n, 10),
            np.where(style < 0.7, np.char.lower((first + last.astype(str).astype(object)).astype(str)).astype(object)
                     + _digits(rng, n, 2),
                     np.char.lower(first.astype(str)).astype(object) + "_" + _digits(rng, n, 4)))
        house_no = rng.integers(1, 240, size=n).astype(str).astype(object)
        return pd.DataFrame({
            "customer_idx": idx,
            "username": username + "." + pd.Series(idx).map(lambda i: format(int(i), "x")).to_numpy(dtype=object),
            "recipient": first + " " + last,
            "phone": "+44 7700 900" + _digits(rng, n, 3),
            "state": county,
            "city": town,
            "zipcode": area + district + " " + inward,
            "detail_address": house_no + " " + _pick(rng, _UK_STREETS, n),
            "additional_address": _pick(rng, _UK_EXTRA, n),
            "house_name": _pick(rng, _UK_HOUSE_NAMES, n),
            "delivery_instruction": _pick(rng, _UK_INSTRUCTIONS, n),
        })
    first = _pick(rng, _TH_FIRST, n)
    last = _pick(rng, _TH_LAST, n)
    places = rng.integers(0, len(_TH_PLACES), size=n)
    roman = _pick(rng, _TH_ROMAN, n)
    username = np.where(style < 0.45, "user" + _digits(rng, n, 9),
                        np.where(style < 0.75, roman + "_" + _digits(rng, n, 3), roman + "." + _pick(rng, _TH_ROMAN, n)))
    return pd.DataFrame({
        "customer_idx": idx,
        "username": username + pd.Series(idx).map(lambda i: format(int(i), "x")).to_numpy(dtype=object),
        "recipient": first + " " + last,
        "phone": "(+66)" + _pick(rng, ["6", "8", "9"], n) + _digits(rng, n, 1) + "*****" + _digits(rng, n, 3),
        "province": np.array([p[0] for p in _TH_PLACES], dtype=object)[places],
        "district": np.array([p[1] for p in _TH_PLACES], dtype=object)[places],
        "zipcode": np.array([p[2] for p in _TH_PLACES], dtype=object)[places],
        "detail_address": rng.integers(1, 999, size=n).astype(str).astype(object) + "/" +
        rng.integers(1, 99, size=n).astype(str).astype(object) + " " + _pick(rng, _TH_STREETS, n),
        "additional_address": _pick(rng, _TH_EXTRA, n),
    })


def buyer_messages(rng: np.random.Generator, market: str, n: int) -> np.ndarray:
    """Mostly empty; a few free-text notes (PII-adjacent, dropped at ingestion)."""
    texts = (["Please leave with neighbour if not in", "Gift - please don't include the receipt",
              "Can you send the grey one instead?", "Call me on arrival please"] if market == "UK" else
             ["ฝากไว้ที่ป้อมยามได้เลยค่ะ", "รบกวนห่อกันกระแทกด้วยนะคะ", "โทรก่อนส่งนะครับ", "ขอใบกำกับภาษีด้วยค่ะ"])
    out = np.full(n, "", dtype=object)
    has = rng.random(n) < 0.03
    out[has] = _pick(rng, texts, int(has.sum()))
    return out
