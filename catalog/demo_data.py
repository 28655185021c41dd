"""The demo store as data: categories, products with their printed barcodes, demo accounts.

``manage.py load_demo_store`` loads it. Barcodes are written as they are printed on the pack
(EAN-13, UPC-A or EAN-8); their check digits are computed here, and the loader turns each one
into its canonical GTIN-14 with ``gtin_normalise``. Company prefixes are made up, and none
falls in the in-store (02, 20-29) ranges.
"""

import math
import random
from dataclasses import dataclass

from catalog.barcodes import gs1_check_digit

# Published in the README and printed by the command, so they are refused in production.
DEMO_STAFF_EMAIL = "staff@example.com"
DEMO_STAFF_PASSWORD = "smartcart-staff"  # noqa: S105 - a published demo password
DEMO_SHOPPER_EMAIL = "alice@example.com"
DEMO_SHOPPER_PASSWORD = "smartcart-alice"  # noqa: S105 - a published demo password
STORE_MANAGER_GROUP = "Store manager"
# The demo staff account's authenticator-app (TOTP) secret: published, so demo only. Base32,
# 20 bytes like the secrets allauth generates.
DEMO_STAFF_TOTP_SECRET = "SMARTCARTDEMOSTAFFTOTPNOTSECRET2"  # noqa: S105 - a published demo secret


def _printed(payload: str, length: int) -> str:
    if len(payload) != length - 1 or not payload.isdigit():
        raise ValueError(f"{payload!r} is not a {length - 1}-digit barcode payload.")
    return payload + str(gs1_check_digit(payload))


def ean13(payload: str) -> str:
    """The EAN-13 printed for a 12-digit ``payload``."""
    return _printed(payload, 13)


def upc_a(payload: str) -> str:
    """The UPC-A printed for an 11-digit ``payload``."""
    return _printed(payload, 12)


def ean8(payload: str) -> str:
    """The EAN-8 printed for a 7-digit ``payload``."""
    return _printed(payload, 8)


@dataclass(frozen=True)
class DemoCategory:
    slug: str
    name: str


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    name: str
    category: str  # a DemoCategory slug
    price: str  # a Decimal string
    stock: int
    barcodes: tuple[str, ...]
    description: str


CATEGORIES = (
    DemoCategory("fruit-vegetables", "Fruit & vegetables"),
    DemoCategory("dairy", "Dairy & eggs"),
    DemoCategory("bakery", "Bakery"),
    DemoCategory("drinks", "Drinks"),
    DemoCategory("pantry", "Pantry"),
    DemoCategory("household", "Household"),
)

P = DemoProduct
# fmt: off
PRODUCTS = (
    # --- Fruit & vegetables ---
    P("bananas", "Bananas, bunch of 5", "fruit-vegetables", "1.49", 60,
      (ean13("401234500101"),),
      "Fairtrade Cavendish bananas, picked green and ripened in the store's own rooms."),
    P("braeburn-apples", "Braeburn apples, 1 kg", "fruit-vegetables", "2.79", 35,
      (ean13("401234500102"),),
      "Crisp, sweet-sharp apples from orchards a short drive away. Good for lunchboxes and pies."),
    P("vine-tomatoes", "Vine tomatoes, 500 g", "fruit-vegetables", "2.19", 4,
      (ean13("401234500103"),),
      "Ripened on the vine for a deeper flavour. Keep them out of the fridge."),
    P("baby-spinach", "Baby spinach, 200 g", "fruit-vegetables", "1.99", 0,
      (ean13("401234500104"),),
      "Washed and ready to eat: toss into salads or wilt into pasta at the last minute."),
    P("hass-avocados", "Hass avocados, pack of 2", "fruit-vegetables", "2.99", 18,
      (ean13("401234500105"),),
      "Ripe and ready when the skin turns dark and yields to a gentle press."),
    P("carrots", "Carrots, 1 kg", "fruit-vegetables", "0.99", 80,
      (ean13("401234500106"),),
      "Sweet, crunchy carrots grown in sandy soil. Roast, grate or eat them raw."),
    P("lemons", "Unwaxed lemons, pack of 4", "fruit-vegetables", "1.59", 3,
      (ean13("401234500107"),),
      "Unwaxed, so the zest is ready for baking, dressings and drinks."),
    # --- Dairy & eggs ---
    P("whole-milk", "Whole milk, 1 l", "dairy", "1.15", 120,
      (ean13("401234500201"), ean13("401234500299")),
      "Fresh pasteurised whole milk, 3.5% fat, from farms in the region. "
      "The old carton's barcode still scans."),
    P("semi-skimmed-milk", "Semi-skimmed milk, 1 l", "dairy", "1.09", 95,
      (ean13("401234500202"),),
      "Fresh pasteurised semi-skimmed milk, 1.5% fat."),
    P("free-range-eggs", "Free-range eggs, 6 pack", "dairy", "2.49", 5,
      (ean13("401234500203"),),
      "Medium eggs from hens that roam outdoors every day."),
    P("greek-yoghurt", "Greek-style yoghurt, 500 g", "dairy", "2.29", 24,
      (ean13("401234500204"),),
      "Thick and creamy strained yoghurt. Lovely with honey and fruit."),
    P("salted-butter", "Salted butter, 250 g", "dairy", "2.65", 40,
      (ean13("401234500205"),),
      "Churned from fresh cream with a pinch of sea salt."),
    P("mature-cheddar", "Mature cheddar, 400 g", "dairy", "4.49", 0,
      (ean13("401234500206"),),
      "Aged for nine months for a rich, tangy bite."),
    P("mozzarella", "Fresh mozzarella, 125 g", "dairy", "1.19", 30,
      (ean8("4012001"),),
      "Soft mozzarella in whey. Tear over pizza or serve with tomatoes and basil."),
    # --- Bakery ---
    P("sourdough-loaf", "Sourdough loaf, 800 g", "bakery", "3.50", 12,
      (ean13("401234500301"),),
      "Slow-fermented for 24 hours and baked in-store every morning."),
    P("wholemeal-bread", "Wholemeal sandwich bread, 800 g", "bakery", "1.45", 2,
      (ean13("401234500302"),),
      "Soft sliced wholemeal bread made with stoneground flour."),
    P("butter-croissants", "All-butter croissants, 4 pack", "bakery", "2.20", 16,
      (ean13("401234500303"),),
      "Flaky, golden croissants. Warm them for five minutes in the oven."),
    P("seeded-rye", "Seeded rye bread, 500 g", "bakery", "2.95", 9,
      (ean13("401234500304"),),
      "Dense, dark rye with sunflower and pumpkin seeds. Keeps well for a week."),
    P("plain-bagels", "Plain bagels, 5 pack", "bakery", "1.89", 0,
      (ean13("401234500305"),),
      "Boiled then baked for a chewy crumb. Best split and toasted."),
    P("cinnamon-buns", "Cinnamon buns, 2 pack", "bakery", "2.75", 7,
      (ean13("401234500306"),),
      "Swirled with cinnamon butter and finished with pearl sugar."),
    # --- Drinks ---
    P("still-water", "Still mineral water, 1.5 l", "drinks", "0.65", 200,
      (ean8("4012002"),),
      "Naturally low in sodium, bottled at the spring."),
    P("sparkling-water", "Sparkling water, 6 x 500 ml", "drinks", "2.40", 48,
      (ean13("401234500401"),),
      "Lightly sparkling mineral water in recyclable bottles."),
    P("orange-juice", "Orange juice, not from concentrate, 1 l", "drinks", "2.39", 22,
      (ean13("401234500402"),),
      "Pressed from sweet Valencia oranges, with bits. Keep refrigerated once opened."),
    P("ground-coffee", "Ground coffee, medium roast, 250 g", "drinks", "4.99", 15,
      (upc_a("07123400011"),),
      "A smooth medium roast with notes of chocolate and hazelnut. For filter and cafetière."),
    P("breakfast-tea", "English breakfast tea, 80 bags", "drinks", "3.29", 26,
      (upc_a("03660230146"),),
      "A brisk blend of Assam and Kenyan teas. Brew for three to five minutes."),
    P("cola-can", "Cola, 330 ml can", "drinks", "0.89", 0,
      (ean13("401234500403"), upc_a("07123400012")),
      "The classic fizzy cola. Imported cans carry a UPC-A code; both scan."),
    P("apple-juice", "Cloudy apple juice, 1 l", "drinks", "1.79", 4,
      (ean13("401234500404"),),
      "Pressed from a blend of local apples, unfiltered for a fuller taste."),
    # --- Pantry ---
    P("spaghetti", "Spaghetti, 500 g", "pantry", "1.29", 70,
      (ean13("401234500501"),),
      "Bronze-die durum wheat pasta with a rough surface that holds sauce. Cooks in 10 minutes."),
    P("basmati-rice", "Basmati rice, 1 kg", "pantry", "2.89", 33,
      (ean13("401234500502"),),
      "Aged long-grain rice that cooks up light, fluffy and fragrant."),
    P("chopped-tomatoes", "Chopped tomatoes, 400 g tin", "pantry", "0.75", 90,
      (ean13("401234500503"),),
      "Italian plum tomatoes in their own juice. The base of a hundred weeknight dinners."),
    P("olive-oil", "Extra virgin olive oil, 500 ml", "pantry", "6.49", 11,
      (ean13("401234500504"),),
      "Cold-pressed from Spanish Arbequina olives. Peppery and fresh."),
    P("peanut-butter", "Crunchy peanut butter, 340 g", "pantry", "2.59", 1,
      (ean13("401234500505"),),
      "Roasted peanuts and a pinch of salt. Nothing else."),
    P("porridge-oats", "Porridge oats, 1 kg", "pantry", "1.69", 27,
      (ean8("4012003"),),
      "Rolled whole-grain oats for porridge, flapjacks and overnight oats."),
    P("wildflower-honey", "Wildflower honey, 340 g", "pantry", "4.25", 0,
      (upc_a("07123400013"),),
      "Set honey from hives in meadows and hedgerows."),
    # --- Household ---
    P("washing-up-liquid", "Washing-up liquid, 500 ml", "household", "1.35", 38,
      (ean13("401234500601"),),
      "Cuts through grease, gentle on hands, lemon-scented."),
    P("toilet-tissue", "Toilet tissue, 9 rolls", "household", "4.79", 20,
      (ean13("401234500602"),),
      "Soft three-ply tissue from responsibly managed forests."),
    P("kitchen-roll", "Kitchen roll, 2 rolls", "household", "2.15", 3,
      (ean13("401234500603"),),
      "Strong, absorbent two-ply sheets for spills and cleaning."),
    P("laundry-detergent", "Laundry liquid, 1.5 l (30 washes)", "household", "7.99", 14,
      (upc_a("07123400014"),),
      "Concentrated liquid that works from 20 °C. Suitable for colours and whites."),
    P("bin-bags", "Compostable bin bags, 20 pack", "household", "3.10", 25,
      (ean13("401234500604"),),
      "10-litre caddy liners that go in the food waste bin along with the scraps."),
    P("sponge-scourers", "Sponge scourers, 6 pack", "household", "1.25", 0,
      (ean13("401234500605"),),
      "A soft sponge on one side and a scourer on the other."),
)
# fmt: on


# --- Purchase history --------------------------------------------------------------------
#
# A few hundred paid orders from a handful of regular shoppers, so that "often bought with"
# has something to learn from on a fresh demo store. Each order is a trip with one or two
# purposes (a pasta night, breakfast, cleaning...), each bringing some of its products, plus
# some of the shopper's usual staples and the odd impulse buy. Deterministic: the same seed
# gives the same orders, so the loader can match them by number.


@dataclass(frozen=True)
class DemoMission:
    name: str
    weight: float
    items: tuple[tuple[str, float], ...]  # (product slug, chance it comes along)


@dataclass(frozen=True)
class DemoShopper:
    email: str
    staples: tuple[str, ...]  # product slugs bought on many trips


@dataclass(frozen=True)
class DemoOrder:
    number: str
    email: str
    days_ago: float
    lines: tuple[tuple[str, int], ...]  # (product slug, quantity)


DEMO_HISTORY_SEED = 7
DEMO_HISTORY_ORDERS = 300
DEMO_HISTORY_DAYS = 120
DEMO_ORDER_NUMBER = "DEMO-{n:04d}"  # the same shape as real numbers, never one of them
STAPLE_CHANCE = 0.35

# fmt: off
DEMO_MISSIONS = (
    DemoMission("pasta night", 5, (("spaghetti", .9), ("chopped-tomatoes", .8),
                ("olive-oil", .35), ("mozzarella", .45), ("vine-tomatoes", .3))),
    DemoMission("caprese and bread", 2, (("mozzarella", .8), ("vine-tomatoes", .8),
                ("olive-oil", .45), ("sourdough-loaf", .5))),
    DemoMission("weekend breakfast", 4, (("butter-croissants", .75), ("orange-juice", .65),
                ("ground-coffee", .45), ("salted-butter", .3))),
    DemoMission("tea time", 3, (("breakfast-tea", .75), ("semi-skimmed-milk", .5),
                ("cinnamon-buns", .5))),
    DemoMission("porridge", 3, (("porridge-oats", .85), ("bananas", .5),
                ("greek-yoghurt", .35), ("whole-milk", .4))),
    DemoMission("avocado toast", 3, (("hass-avocados", .85), ("sourdough-loaf", .6),
                ("lemons", .45), ("free-range-eggs", .4))),
    DemoMission("rice dinner", 2, (("basmati-rice", .85), ("carrots", .5),
                ("greek-yoghurt", .3), ("lemons", .3))),
    DemoMission("lunchboxes", 3, (("wholemeal-bread", .75), ("peanut-butter", .55),
                ("braeburn-apples", .6), ("apple-juice", .45))),
    DemoMission("pancakes", 2, (("free-range-eggs", .75), ("whole-milk", .6),
                ("lemons", .5), ("salted-butter", .35), ("bananas", .3))),
    DemoMission("rye and cheese", 2, (("seeded-rye", .8), ("salted-butter", .4),
                ("vine-tomatoes", .3))),
    DemoMission("washing up", 3, (("washing-up-liquid", .85), ("kitchen-roll", .55),
                ("bin-bags", .45))),
    DemoMission("laundry day", 2, (("laundry-detergent", .9), ("toilet-tissue", .5))),
    DemoMission("thirsty", 2, (("sparkling-water", .6), ("still-water", .5),
                ("apple-juice", .3), ("lemons", .2))),
)

DEMO_SHOPPERS = (
    DemoShopper("sam.history@example.com", ("semi-skimmed-milk", "wholemeal-bread", "bananas",
                "breakfast-tea")),
    DemoShopper("priya.history@example.com", ("whole-milk", "sourdough-loaf", "braeburn-apples",
                "ground-coffee")),
    DemoShopper("jonas.history@example.com", ("semi-skimmed-milk", "seeded-rye", "carrots",
                "sparkling-water")),
    DemoShopper("maria.history@example.com", ("whole-milk", "wholemeal-bread", "greek-yoghurt",
                "still-water")),
    DemoShopper("li.history@example.com", ("semi-skimmed-milk", "sourdough-loaf", "bananas",
                "orange-juice")),
    DemoShopper("tom.history@example.com", ("whole-milk", "seeded-rye", "free-range-eggs",
                "breakfast-tea")),
)
# fmt: on


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _demo_trip(rng: random.Random, shopper: DemoShopper) -> list[str]:
    slugs = [slug for slug in shopper.staples if rng.random() < STAPLE_CHANCE]
    missions = rng.choices(DEMO_MISSIONS, weights=[m.weight for m in DEMO_MISSIONS], k=1)
    if rng.random() < 0.35:
        missions += rng.choices(DEMO_MISSIONS, weights=[m.weight for m in DEMO_MISSIONS], k=1)
    for mission in missions:
        slugs += [slug for slug, chance in mission.items if rng.random() < chance]
    slugs += [rng.choice(PRODUCTS).slug for _ in range(_poisson(rng, 0.6))]
    return list(dict.fromkeys(slugs))


def demo_history() -> tuple[DemoOrder, ...]:
    """The demo purchase history, oldest order first (``DEMO-0001``)."""
    rng = random.Random(DEMO_HISTORY_SEED)  # noqa: S311 - a repeatable demo, not a secret
    orders = []
    for n in range(1, DEMO_HISTORY_ORDERS + 1):
        shopper = rng.choice(DEMO_SHOPPERS)
        slugs = _demo_trip(rng, shopper)
        lines = tuple((slug, rng.choice((1, 1, 1, 2, 2, 3))) for slug in slugs)
        days_ago = DEMO_HISTORY_DAYS * (1 - n / DEMO_HISTORY_ORDERS) + rng.random()
        orders.append(DemoOrder(DEMO_ORDER_NUMBER.format(n=n), shopper.email, days_ago, lines))
    return tuple(orders)
