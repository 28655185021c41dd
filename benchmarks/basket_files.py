"""Basket files for ``benchmarks.recommend``: one basket per line, items comma-separated.

    .venv/bin/python -m benchmarks.basket_files synthetic [--seed 2024] [--baskets 6000] OUT
    .venv/bin/python -m benchmarks.basket_files demo OUT

``synthetic`` simulates a neighbourhood supermarket, line by line in time order:

- about 250 products in 14 departments, with a long-tailed popularity (a few staples sell
  in a large share of baskets, most products rarely);
- households (1,500) with their own habits: each prefers one product of each group of
  substitutes (whole or semi-skimmed or oat milk, one brand of tea...) and has a handful of
  favourites that come back in many of its baskets;
- shopping *missions* (pasta night, a barbecue, baby care, cleaning...) that bring several
  related products at once, each only with some probability, with seasonal missions waxing
  and waning along the file (so the last 20 % is not drawn exactly like the first 80 %);
- impulse and "top-up" products drawn from the popularity alone, which no recommender can
  predict and a popularity list often can.

``demo`` writes the demo store's purchase history (``catalog.demo_data.demo_history``), the
same baskets ``load_demo_store`` turns into paid orders, by product slug.

Both are deterministic: the same seed writes the same file.
"""

import argparse
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# fmt: off
DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "produce": (
        "bananas", "braeburn apples", "gala apples", "clementines", "lemons", "limes",
        "avocados", "grapes", "strawberries", "blueberries", "raspberries", "pears",
        "mango", "pineapple", "watermelon", "potatoes", "baking potatoes", "sweet potatoes",
        "onions", "red onions", "garlic", "carrots", "parsnips", "broccoli", "cauliflower",
        "courgettes", "peppers", "mushrooms", "cherry tomatoes", "vine tomatoes", "cucumber",
        "iceberg lettuce", "mixed salad leaves", "baby spinach", "spring onions", "ginger",
        "fresh basil", "fresh coriander", "corn on the cob", "leeks", "celery", "kale",
        "stir fry vegetables",
    ),
    "dairy": (
        "whole milk", "semi-skimmed milk", "skimmed milk", "oat milk", "butter",
        "spreadable butter", "mature cheddar", "grated cheddar", "mozzarella", "parmesan",
        "feta", "brie", "halloumi", "cream cheese", "greek yoghurt", "natural yoghurt",
        "fruit yoghurts", "double cream", "sour cream", "free range eggs", "large eggs",
        "cheese slices",
    ),
    "bakery": (
        "white sliced bread", "wholemeal bread", "sourdough loaf", "seeded batch",
        "croissants", "pain au chocolat", "bagels", "crumpets", "tortilla wraps",
        "naan bread", "pitta bread", "burger buns", "hot dog rolls", "garlic bread",
        "pizza bases", "cinnamon buns", "doughnuts",
    ),
    "meat & fish": (
        "chicken breast", "chicken thighs", "whole chicken", "minced beef", "beef steak",
        "pork sausages", "smoked bacon", "cooked ham", "pepperoni", "beef burgers",
        "salmon fillets", "cod fillets", "prawns", "chorizo", "lamb chops",
    ),
    "pantry": (
        "spaghetti", "penne", "fusilli", "lasagne sheets", "basmati rice", "risotto rice",
        "egg noodles", "tomato passata", "chopped tomatoes", "pasta sauce", "pesto",
        "curry paste", "coconut milk", "soy sauce", "olive oil", "vegetable oil",
        "baked beans", "tuna tins", "chickpeas", "kidney beans", "plain flour",
        "self-raising flour", "caster sugar", "granulated sugar", "baking powder",
        "vanilla extract", "cocoa powder", "chocolate chips", "porridge oats", "granola",
        "cornflakes", "honey", "strawberry jam", "peanut butter", "chocolate spread",
        "gravy granules", "stuffing mix", "stock cubes", "mango chutney", "salsa dip",
        "guacamole", "hummus", "mayonnaise", "ketchup", "mustard", "salad dressing",
        "taco seasoning",
    ),
    "snacks": (
        "ready salted crisps", "salt and vinegar crisps", "tortilla chips", "popcorn",
        "salted peanuts", "milk chocolate bar", "dark chocolate", "chocolate biscuits",
        "digestive biscuits", "rich tea biscuits", "crackers", "rice cakes", "cereal bars",
        "gummy sweets",
    ),
    "drinks": (
        "cola", "diet cola", "lemonade", "orange juice", "apple juice", "sparkling water",
        "still water", "ground coffee", "instant coffee", "coffee pods", "english breakfast tea",
        "green tea", "hot chocolate", "lager", "ale", "red wine", "white wine", "prosecco",
        "tonic water", "gin",
    ),
    "frozen": (
        "frozen peas", "frozen sweetcorn", "frozen berries", "oven chips", "fish fingers",
        "frozen pizza", "vanilla ice cream", "chocolate ice cream", "ice lollies",
        "frozen prawns", "breaded fish", "ice cubes",
    ),
    "household": (
        "washing-up liquid", "dishwasher tablets", "sponges", "bin bags", "kitchen roll",
        "toilet roll", "surface spray", "bleach", "laundry liquid", "fabric conditioner",
        "stain remover", "cling film", "foil", "batteries", "light bulbs", "charcoal",
        "paper plates", "plastic cups", "candles",
    ),
    "personal care": (
        "toothpaste", "toothbrush", "shampoo", "conditioner", "shower gel", "deodorant",
        "razors", "shaving foam", "hand soap", "tissues", "paracetamol", "plasters",
        "sun cream", "lip balm",
    ),
    "baby": (
        "nappies", "baby wipes", "baby food pouches", "infant formula", "baby shampoo",
        "nappy cream",
    ),
    "pets": (
        "cat food pouches", "dry cat food", "cat litter", "cat treats", "dog food tins",
        "dry dog food", "dog treats", "poo bags",
    ),
    "world foods": (
        "sushi rice", "nori sheets", "wasabi", "rice noodles", "fish sauce", "sriracha",
        "refried beans", "jalapenos",
    ),
    "deli": (
        "coleslaw", "potato salad", "olives", "sun-dried tomatoes", "salami", "prosciutto",
        "quiche", "scotch eggs",
    ),
}

# Each household buys one of each group, its own, as a staple.
SUBSTITUTES: tuple[tuple[str, ...], ...] = (
    ("whole milk", "semi-skimmed milk", "skimmed milk", "oat milk"),
    ("white sliced bread", "wholemeal bread", "sourdough loaf", "seeded batch"),
    ("butter", "spreadable butter"),
    ("free range eggs", "large eggs"),
    ("english breakfast tea", "ground coffee", "instant coffee", "coffee pods", "green tea"),
    ("braeburn apples", "gala apples", "clementines", "pears"),
    ("greek yoghurt", "natural yoghurt", "fruit yoghurts"),
    ("cornflakes", "granola", "porridge oats"),
    ("cola", "diet cola", "sparkling water", "still water"),
)


@dataclass(frozen=True)
class Mission:
    """Why someone goes shopping: products that come together, each with its probability."""

    name: str
    weight: float
    items: tuple[tuple[str, float], ...]
    season: float = 0.0  # how much the weight swings along the file (0: not seasonal)
    phase: float = 0.0  # where in the file (0..1) the mission peaks


M = Mission
MISSIONS: tuple[Mission, ...] = (
    M("pasta night", 5, (("spaghetti", .6), ("penne", .3), ("tomato passata", .5),
      ("pasta sauce", .3), ("parmesan", .5), ("minced beef", .35), ("garlic", .35),
      ("fresh basil", .25), ("garlic bread", .3), ("olive oil", .15))),
    M("tacos", 3, (("tortilla wraps", .8), ("salsa dip", .55), ("sour cream", .45),
      ("grated cheddar", .5), ("minced beef", .4), ("taco seasoning", .45),
      ("iceberg lettuce", .3), ("avocados", .3), ("limes", .25), ("jalapenos", .2),
      ("refried beans", .15))),
    M("fry-up", 3, (("large eggs", .4), ("free range eggs", .35), ("smoked bacon", .7),
      ("pork sausages", .5), ("baked beans", .5), ("mushrooms", .3), ("white sliced bread", .3),
      ("ketchup", .15))),
    M("continental breakfast", 3, (("croissants", .65), ("pain au chocolat", .4),
      ("orange juice", .55), ("strawberry jam", .35), ("ground coffee", .3),
      ("butter", .25))),
    M("baking", 2.5, (("plain flour", .5), ("self-raising flour", .4), ("caster sugar", .65),
      ("butter", .5), ("large eggs", .4), ("baking powder", .35), ("vanilla extract", .35),
      ("cocoa powder", .25), ("chocolate chips", .3), ("double cream", .2))),
    M("party", 3, (("ready salted crisps", .5), ("tortilla chips", .55), ("salsa dip", .4),
      ("guacamole", .35), ("hummus", .25), ("cola", .4), ("lager", .45), ("prosecco", .25),
      ("salted peanuts", .3), ("plastic cups", .25), ("paper plates", .2), ("ice cubes", .2)),
      season=.5, phase=.9),
    M("barbecue", 3, (("beef burgers", .6), ("pork sausages", .45), ("burger buns", .6),
      ("hot dog rolls", .3), ("ketchup", .4), ("mustard", .2), ("charcoal", .45),
      ("corn on the cob", .3), ("coleslaw", .4), ("halloumi", .25), ("lager", .35),
      ("potato salad", .25)), season=.9, phase=.55),
    M("baby", 2.5, (("nappies", .75), ("baby wipes", .75), ("baby food pouches", .45),
      ("infant formula", .25), ("nappy cream", .2), ("baby shampoo", .15))),
    M("cat", 2.5, (("cat food pouches", .8), ("dry cat food", .4), ("cat litter", .45),
      ("cat treats", .3))),
    M("dog", 2, (("dog food tins", .7), ("dry dog food", .45), ("dog treats", .45),
      ("poo bags", .3))),
    M("cleaning", 3, (("washing-up liquid", .45), ("sponges", .4), ("bin bags", .4),
      ("kitchen roll", .45), ("surface spray", .45), ("bleach", .3),
      ("dishwasher tablets", .3))),
    M("laundry", 2, (("laundry liquid", .8), ("fabric conditioner", .55),
      ("stain remover", .2))),
    M("curry night", 3, (("basmati rice", .7), ("curry paste", .6), ("chicken thighs", .35),
      ("chicken breast", .3), ("coconut milk", .55), ("naan bread", .5), ("onions", .35),
      ("mango chutney", .3), ("fresh coriander", .25), ("natural yoghurt", .15))),
    M("stir fry", 2.5, (("egg noodles", .6), ("rice noodles", .3), ("soy sauce", .45),
      ("stir fry vegetables", .6), ("chicken breast", .35), ("prawns", .25), ("ginger", .3),
      ("spring onions", .3), ("sriracha", .15))),
    M("salad lunch", 3, (("mixed salad leaves", .6), ("cucumber", .45), ("cherry tomatoes", .55),
      ("feta", .35), ("avocados", .3), ("salad dressing", .3), ("olives", .2),
      ("red onions", .2)), season=.6, phase=.5),
    M("sandwiches", 3, (("cooked ham", .55), ("cheese slices", .5), ("mayonnaise", .25),
      ("ready salted crisps", .25), ("tuna tins", .25), ("cucumber", .2), ("pitta bread", .15))),
    M("movie night", 2.5, (("popcorn", .6), ("milk chocolate bar", .4), ("cola", .35),
      ("vanilla ice cream", .3), ("chocolate ice cream", .3), ("gummy sweets", .35),
      ("tortilla chips", .2))),
    M("sunday roast", 3, (("whole chicken", .6), ("potatoes", .6), ("carrots", .5),
      ("parsnips", .4), ("gravy granules", .55), ("stuffing mix", .3), ("frozen peas", .3),
      ("broccoli", .3), ("leeks", .15)), season=.6, phase=.05),
    M("pizza night", 2, (("pizza bases", .5), ("mozzarella", .65), ("tomato passata", .35),
      ("pepperoni", .45), ("peppers", .25), ("mushrooms", .2), ("olives", .15))),
    M("tea break", 3, (("digestive biscuits", .45), ("rich tea biscuits", .3),
      ("chocolate biscuits", .35), ("english breakfast tea", .35), ("granulated sugar", .2))),
    M("bathroom", 2.5, (("toothpaste", .5), ("toothbrush", .25), ("shampoo", .45),
      ("conditioner", .35), ("shower gel", .45), ("deodorant", .35), ("razors", .15),
      ("shaving foam", .15), ("hand soap", .25), ("toilet roll", .3))),
    M("wine and cheese", 2, (("red wine", .5), ("white wine", .35), ("brie", .45),
      ("mature cheddar", .3), ("crackers", .55), ("grapes", .35), ("olives", .2),
      ("prosciutto", .2), ("salami", .2)), season=.4, phase=.95),
    M("healthy breakfast", 3, (("porridge oats", .5), ("granola", .3), ("honey", .35),
      ("blueberries", .4), ("bananas", .4), ("greek yoghurt", .4), ("raspberries", .2))),
    M("smoothies", 1.5, (("frozen berries", .6), ("bananas", .5), ("oat milk", .35),
      ("baby spinach", .3), ("natural yoghurt", .3), ("mango", .2))),
    M("fish supper", 2, (("breaded fish", .4), ("fish fingers", .4), ("oven chips", .6),
      ("frozen peas", .45), ("lemons", .25), ("cod fillets", .2))),
    M("cold and flu", 1.5, (("paracetamol", .6), ("tissues", .6), ("lemons", .35),
      ("honey", .35), ("orange juice", .3), ("hot chocolate", .15)), season=.9, phase=.1),
    M("gin and tonic", 1.5, (("gin", .7), ("tonic water", .75), ("limes", .45),
      ("ice cubes", .3), ("lemons", .2)), season=.5, phase=.6),
    M("sushi at home", 1, (("sushi rice", .7), ("nori sheets", .6), ("wasabi", .4),
      ("soy sauce", .35), ("salmon fillets", .35), ("cucumber", .25), ("avocados", .25))),
    M("summer day", 2, (("sun cream", .45), ("ice lollies", .45), ("strawberries", .45),
      ("watermelon", .35), ("still water", .3), ("lemonade", .3)), season=1, phase=.5),
    M("picnic", 1.5, (("scotch eggs", .45), ("quiche", .4), ("potato salad", .3),
      ("salami", .2), ("ready salted crisps", .35), ("strawberries", .3), ("lemonade", .3),
      ("paper plates", .2)), season=.8, phase=.55),
)
# fmt: on

HOUSEHOLDS = 1500
FAVOURITES = (3, 9)  # each household's number of favourite products (a range)
FAVOURITE_CHANCE = 0.3  # a favourite comes into a given basket
STAPLE_CHANCE = 0.4  # the household's pick of a group of substitutes comes into a basket
POPULARITY_EXPONENT = 0.85  # Zipf-like: the r-th most popular product weighs 1 / r ** 0.85
IMPULSE_MEAN = 1.6  # products from the popularity alone, per basket (geometric)
MISSIONS_MEAN = 0.9  # missions per basket (Poisson, at least one item overall)


@dataclass(frozen=True)
class Store:
    products: tuple[str, ...]
    popularity: tuple[float, ...]


def store_make(rng: random.Random) -> Store:
    products = [name for names in DEPARTMENTS.values() for name in names]
    known = set(products)
    for mission in MISSIONS:
        for name, _ in mission.items:
            if name not in known:
                raise ValueError(f"mission {mission.name!r} names an unknown product {name!r}")
    ranked = products[:]
    rng.shuffle(ranked)
    weight = {name: 1 / (rank + 1) ** POPULARITY_EXPONENT for rank, name in enumerate(ranked)}
    return Store(tuple(products), tuple(weight[name] for name in products))


def households_make(rng: random.Random, store: Store) -> list[tuple[str, ...]]:
    households = []
    for _ in range(HOUSEHOLDS):
        staples = [rng.choice(group) for group in SUBSTITUTES]
        count = rng.randint(*FAVOURITES)
        favourites = rng.choices(store.products, weights=store.popularity, k=count)
        households.append(tuple(dict.fromkeys(staples + favourites)))
    return households


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _geometric(rng: random.Random, mean: float) -> int:
    return int(math.log(1 - rng.random()) / math.log(mean / (mean + 1)))


def _mission_weights(position: float) -> list[float]:
    return [
        m.weight * (1 + m.season * math.cos(2 * math.pi * (position - m.phase))) for m in MISSIONS
    ]


def basket_make(
    rng: random.Random, store: Store, household: Sequence[str], position: float
) -> list[str]:
    staples = len(SUBSTITUTES)
    basket = [name for name in household[:staples] if rng.random() < STAPLE_CHANCE]
    basket += [name for name in household[staples:] if rng.random() < FAVOURITE_CHANCE]
    weights = _mission_weights(position)
    for mission in rng.choices(MISSIONS, weights=weights, k=_poisson(rng, MISSIONS_MEAN)):
        basket += [name for name, chance in mission.items if rng.random() < chance]
    impulse = _geometric(rng, IMPULSE_MEAN)
    basket += rng.choices(store.products, weights=store.popularity, k=impulse)
    if not basket:
        basket = rng.choices(store.products, weights=store.popularity, k=1)
    return list(dict.fromkeys(basket))


def synthetic_baskets(*, seed: int, count: int) -> list[list[str]]:
    rng = random.Random(seed)
    store = store_make(rng)
    households = households_make(rng, store)
    return [
        basket_make(rng, store, rng.choice(households), position / count)
        for position in range(count)
    ]


def demo_baskets() -> list[list[str]]:
    from catalog import demo_data

    # By slug: the demo's names hold commas ("Spaghetti, 500 g").
    return [[slug for slug, _quantity in order.lines] for order in demo_data.demo_history()]


def baskets_write(baskets: list[list[str]], out: Path) -> None:
    for basket in baskets:
        if any("," in name for name in basket):
            raise ValueError(f"an item name holds a comma: {basket}")
    out.write_text("".join(",".join(basket) + "\n" for basket in baskets), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = parser.add_subparsers(dest="kind", required=True)
    synthetic = kinds.add_parser("synthetic", help="a simulated supermarket")
    synthetic.add_argument("--seed", type=int, default=2024)
    synthetic.add_argument("--baskets", type=int, default=6000)
    synthetic.add_argument("out", type=Path)
    demo = kinds.add_parser("demo", help="the demo store's purchase history")
    demo.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.kind == "synthetic":
        baskets = synthetic_baskets(seed=args.seed, count=args.baskets)
    else:
        baskets = demo_baskets()
    baskets_write(baskets, args.out)
    lines = sum(len(basket) for basket in baskets)
    print(f"Wrote {len(baskets)} baskets ({lines / len(baskets):.1f} items each) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
