"""Product catalogue: products, SKU variants, per-market IDs, prices and costs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopkpi.demo.ids import random_ids
from shopkpi.demo.markets import MARKET_CODES, MARKETS

# code, name, TikTok category path, GBP price range, weight range (kg), yearly peak day-of-year,
# yearly amplitude, variant kind, nouns.
CATEGORIES: list[dict] = [
    {"code": "KIT", "name": "Kitchen", "path": "Kitchenware/Kitchen Utensils & Gadgets", "price": (6, 30),
     "weight": (0.15, 1.1), "peak_doy": 340, "amp": 0.15, "variants": "colour",
     "nouns": ["Silicone Utensil Set", "Magnetic Knife Strip", "Collapsible Colander", "Oil Sprayer Bottle",
               "Milk Frother", "Vegetable Chopper", "Garlic Press", "Spice Rack Organiser", "Airtight Food Containers",
               "Reusable Baking Mat", "Digital Kitchen Scale", "Electric Whisk", "Herb Scissors", "Pan Protectors",
               "Dish Drying Rack"]},
    {"code": "STO", "name": "Storage", "path": "Home Supplies/Home Organizers", "price": (8, 35),
     "weight": (0.2, 1.4), "peak_doy": 10, "amp": 0.25, "variants": "pack",
     "nouns": ["Drawer Dividers", "Under-Bed Storage Bags", "Vacuum Storage Bags", "Shoe Organiser",
               "Stackable Storage Boxes", "Velvet Hangers", "Cable Organiser Box", "Makeup Organiser",
               "Fridge Organiser Bins", "Over-Door Hooks"]},
    {"code": "BTH", "name": "Bathroom", "path": "Home Supplies/Bathroom Supplies", "price": (6, 28),
     "weight": (0.1, 0.9), "peak_doy": 100, "amp": 0.1, "variants": "colour",
     "nouns": ["Shower Caddy", "Soap Dispenser", "Toothbrush Holder", "Quick-Dry Bath Mat", "Shower Head Filter",
               "Towel Rack", "Bath Pillow"]},
    {"code": "CLN", "name": "Cleaning", "path": "Home Supplies/Household Cleaning", "price": (5, 25),
     "weight": (0.1, 1.2), "peak_doy": 80, "amp": 0.3, "variants": "pack",
     "nouns": ["Electric Spin Scrubber", "Microfibre Cloths", "Lint Remover", "Grout Brush Set", "Spray Mop",
               "Window Squeegee", "Drain Cleaner Sticks", "Reusable Cleaning Pads"]},
    {"code": "LGT", "name": "Lighting", "path": "Home Improvement/Lights & Lighting", "price": (10, 45),
     "weight": (0.2, 1.0), "peak_doy": 350, "amp": 0.35, "variants": "colour",
     "nouns": ["LED Strip Lights", "Sunset Lamp", "Motion Sensor Lights", "Fairy Curtain Lights", "Moon Lamp",
               "Rechargeable Desk Lamp", "Galaxy Projector"]},
    {"code": "BEA", "name": "Beauty tools", "path": "Beauty & Personal Care/Beauty Tools & Accessories",
     "price": (6, 40), "weight": (0.05, 0.6), "peak_doy": 330, "amp": 0.15, "variants": "colour",
     "nouns": ["Ice Roller", "Gua Sha Set", "Makeup Brush Set", "Heated Eyelash Curler", "Jade Facial Roller",
               "Blackhead Remover", "LED Vanity Mirror", "Scalp Massager", "Nail Care Kit"]},
    {"code": "SKN", "name": "Skincare", "path": "Beauty & Personal Care/Skincare", "price": (8, 30),
     "weight": (0.05, 0.35), "peak_doy": 15, "amp": 0.2, "variants": "size",
     "nouns": ["Snail Mucin Serum", "Vitamin C Serum", "Hydrating Sheet Masks", "Rice Water Toner",
               "Sunscreen SPF50", "Lip Sleeping Mask", "Pimple Patches", "Retinol Night Cream"]},
    {"code": "HAI", "name": "Hair", "path": "Beauty & Personal Care/Hair Care & Styling", "price": (8, 45),
     "weight": (0.05, 0.8), "peak_doy": 180, "amp": 0.15, "variants": "colour",
     "nouns": ["Heatless Curling Rod", "Argan Hair Oil", "Claw Clips Set", "Silk Pillowcase", "Hot Air Brush",
               "Hair Straightener Brush", "Detangling Brush"]},
]

_DESCRIPTORS = ["", "Luma", "Nordic", "Compact", "Pro", "Eco", "Cloud", "Mini", "XL"]
_VARIANT_OPTIONS = {
    "colour": (["White", "Grey", "Black", "Sage Green", "Blush Pink", "Beige"], [1.0] * 6),
    "pack": (["1 pc", "2-pack", "4-pack"], [1.0, 1.7, 3.0]),
    "size": (["30ml", "50ml", "100ml"], [1.0, 1.35, 2.1]),
}


def build_catalog(rng: np.random.Generator, n_skus: int, n_days: int) -> pd.DataFrame:
    """One row per SKU (variant); products have 1-3 variants. launch_day is a history day index."""
    rows: list[dict] = []
    used_names: set[str] = set()
    cat_weights = np.array([1.4, 1.0, 0.8, 1.0, 0.7, 1.1, 1.0, 0.8])
    cat_weights = cat_weights / cat_weights.sum()
    seq_per_cat = {c["code"]: 0 for c in CATEGORIES}
    product_idx = 0
    while len(rows) < n_skus:
        cat = CATEGORIES[int(rng.choice(len(CATEGORIES), p=cat_weights))]
        noun = cat["nouns"][int(rng.integers(len(cat["nouns"])))]
        desc = _DESCRIPTORS[int(rng.integers(len(_DESCRIPTORS)))]
        name = f"{desc} {noun}".strip()
        if name in used_names:
            continue
        used_names.add(name)
        popularity = float(rng.lognormal(0.0, 1.0))
        lo, hi = cat["price"]
        base_price = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        n_var = int(rng.choice([1, 2, 3], p=[0.45, 0.35, 0.2]))
        n_var = min(n_var, n_skus - len(rows))
        options, price_factors = _VARIANT_OPTIONS[cat["variants"]]
        if cat["variants"] == "colour":
            picks = sorted(rng.choice(len(options), size=n_var, replace=False).tolist())
        else:
            picks = list(range(n_var))
        shares = rng.dirichlet(np.full(n_var, 2.5))
        weight = float(rng.uniform(*cat["weight"]))
        for k, opt in enumerate(picks):
            seq_per_cat[cat["code"]] += 1
            price_gbp = np.floor(base_price * price_factors[opt]) + 0.99
            price_thb = max(49.0, np.round(price_gbp * rng.uniform(29, 36) / 10) * 10 - 1)
            cost_cny = round(float(price_gbp * MARKETS["UK"]["fx_cny_per_unit"] * rng.uniform(0.16, 0.28)), 2)
            rows.append({
                "sku_idx": len(rows),
                "product_idx": product_idx,
                "seller_sku": f"LH-{cat['code']}-{seq_per_cat[cat['code']]:04d}",
                "category_code": cat["code"],
                "category": cat["name"],
                "tiktok_category": cat["path"],
                "product_name": name,
                "variation": options[opt],
                "n_variants": n_var,
                "variant_share": float(shares[k]),
                "popularity": popularity,
                "weight_kg": round(weight * (price_factors[opt] if cat["variants"] != "colour" else 1.0), 3),
                "price_cents_UK": int(round(price_gbp * 100)),
                "price_cents_TH": int(round(price_thb * 100)),
                "unit_cost_cny": cost_cny,
                "landed_cents_UK": int(round(cost_cny / MARKETS["UK"]["fx_cny_per_unit"] * rng.uniform(1.25, 1.45) * 100 + 30)),
                "landed_cents_TH": int(round(cost_cny / MARKETS["TH"]["fx_cny_per_unit"] * rng.uniform(1.12, 1.3) * 100)),
                "case_pack": int(rng.choice([6, 10, 12, 20, 24, 40, 50])),
            })
        product_idx += 1
    skus = pd.DataFrame(rows)
    n_products = product_idx
    # Launch and slow-mover flags are product-level decisions.
    new_product = rng.random(n_products) < 0.08
    slow_product = (~new_product) & (rng.random(n_products) < 0.07)
    launch = np.where(new_product, rng.integers(60, max(61, n_days - 45), size=n_products), -10_000)
    skus["launch_day"] = launch[skus["product_idx"].to_numpy()]
    skus["is_new"] = new_product[skus["product_idx"].to_numpy()]
    skus["is_intermittent"] = slow_product[skus["product_idx"].to_numpy()]
    # Distinct 4-digit prefixes keep product and SKU IDs disjoint across kinds and markets.
    prefixes = {"UK": ("1729", "1731"), "TH": ("1730", "1732")}
    for market in MARKET_CODES:
        product_prefix, sku_prefix = prefixes[market]
        skus[f"product_id_{market}"] = random_ids(rng, n_products, product_prefix, 19)[skus["product_idx"].to_numpy()]
        skus[f"sku_id_{market}"] = random_ids(rng, len(skus), sku_prefix, 19)
    return skus


def category_table() -> list[dict]:
    """Category constants without the noun lists (for truth.json)."""
    return [{k: v for k, v in c.items() if k != "nouns"} for c in CATEGORIES]
