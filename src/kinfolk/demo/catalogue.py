"""What the two demo shops are and sell: an indie band in Seoul and a garage drone workshop in
California. Plain data; ``shops.py`` turns it into rows through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class VariantSpec:
    sku: str
    price: int  # minor units of the shop's currency
    name: str = ""
    stock: int | None = None  # None: unlimited (digital, made to order)


@dataclass(frozen=True)
class ProductSpec:
    slug: str
    name: str
    kind: str
    description: str
    variants: tuple[VariantSpec, ...]
    colours: tuple[str, str]  # gradient of the product picture, top-left to bottom-right
    shape: str  # what the picture shows: disc, square, shirt, bag, wave, drone, goggles, ...
    # How often fans put it in a basket, relative to the shop's other products.
    popularity: float = 1.0
    category: str = ""


@dataclass(frozen=True)
class ZoneSpec:
    name: str
    countries: tuple[str, ...]
    rate: int
    free_over: int | None = None


@dataclass(frozen=True)
class ShopSpec:
    slug: str
    name: str
    currency: str
    time_zone: str
    country: str
    cutoff: dt.time
    description: str
    owner_email: str
    owner_name: str
    logo_colours: tuple[str, str]
    logo_shape: str
    zones: tuple[ZoneSpec, ...]
    products: tuple[ProductSpec, ...]
    # Typical spend per order in minor units: the centre of each fan's own average.
    typical_order: int
    # Days before the demo's "now" when something drove a wave of orders (releases, launches).
    launches: tuple[int, ...] = field(default_factory=tuple)
    # How much busier April to June are (the flying season for drones); 1.0 for no change.
    spring_lift: float = 1.0


BAND = ShopSpec(
    slug="moonlit-static",
    name="Moonlit Static",
    currency="KRW",
    time_zone="Asia/Seoul",
    country="KR",
    cutoff=dt.time(15, 0),
    description=(
        "Moonlit Static is a four-piece dream-pop band from Mangwon-dong, Seoul. We record in a "
        "basement studio, press small runs of vinyl and pack every order ourselves. Thank you for "
        "listening — every record you buy pays for the next one."
    ),
    owner_email="band@kinfolk.test",
    owner_name="서하나 (Hana Seo)",
    logo_colours=("#1b1f3b", "#6c5ce7"),
    logo_shape="moon",
    zones=(
        ZoneSpec("Korea (CJ Logistics)", ("KR",), 3500),
        ZoneSpec("Rest of the world (K-Packet)", (), 25000),
    ),
    typical_order=52000,
    launches=(940, 480, 75),
    products=(
        ProductSpec(
            slug="after-hours-vinyl",
            category="Music",
            name='After Hours — 12" vinyl LP',
            kind="physical",
            description=(
                "Our second album on 180 g vinyl, cut at half speed.\n\n"
                "- 10 songs, 42 minutes\n"
                "- Gatefold sleeve with lyrics in Korean and English\n"
                "- Download code for the whole album included\n\n"
                "The **coloured** edition is pressed on translucent midnight-blue vinyl "
                "and limited to 300 copies."
            ),
            variants=(
                VariantSpec("MS-LP-AH-BLK", 35000, "Black", 180),
                VariantSpec("MS-LP-AH-BLU", 42000, "Midnight blue (limited)", 60),
            ),
            colours=("#0f2027", "#2c5364"),
            shape="disc",
            popularity=3.0,
        ),
        ProductSpec(
            slug="after-hours-cd",
            category="Music",
            name="After Hours — CD",
            kind="physical",
            description=(
                "The album on CD in a six-panel digipak with a 16-page booklet of photos "
                "from the recording sessions."
            ),
            variants=(VariantSpec("MS-CD-AH", 18000, "", 250),),
            colours=("#355c7d", "#c06c84"),
            shape="square",
            popularity=2.0,
        ),
        ProductSpec(
            slug="static-moon-tee",
            category="Apparel",
            name="Static Moon T-shirt",
            kind="physical",
            description=(
                "Heavyweight organic cotton, screen-printed by hand in Seoul with our crescent "
                "logo on the front and the tour dates on the back.\n\n"
                "Fits true to size; **size up** for a loose fit."
            ),
            variants=(
                VariantSpec("MS-TEE-S", 30000, "S", 40),
                VariantSpec("MS-TEE-M", 30000, "M", 70),
                VariantSpec("MS-TEE-L", 30000, "L", 70),
                VariantSpec("MS-TEE-XL", 30000, "XL", 40),
            ),
            colours=("#232526", "#414345"),
            shape="shirt",
            popularity=2.5,
        ),
        ProductSpec(
            slug="mangwon-tote",
            category="Merch",
            name="Mangwon tote bag",
            kind="physical",
            description=(
                "A sturdy canvas tote for records, groceries and everything in between. "
                "Fits twelve LPs — we checked."
            ),
            variants=(VariantSpec("MS-TOTE", 22000, "", 120),),
            colours=("#f8b195", "#f67280"),
            shape="bag",
            popularity=1.5,
        ),
        ProductSpec(
            slug="after-hours-digital",
            category="Music",
            name="After Hours — digital album",
            kind="digital",
            description=(
                "Download the album as **FLAC** (24-bit/48 kHz) and **MP3** (320 kbps), "
                "with the digital booklet as a PDF. Yours to keep, no streaming required."
            ),
            variants=(VariantSpec("MS-DIG-AH", 10000, ""),),
            colours=("#41295a", "#2f0743"),
            shape="wave",
            popularity=3.0,
        ),
        ProductSpec(
            slug="hand-painted-cassette",
            category="Music",
            name="Hand-painted custom cassette",
            kind="made_to_order",
            description=(
                "A one-of-a-kind cassette of *After Hours*: our bassist Jiwon paints each shell "
                "and J-card by hand, with your name or a short message of your choice.\n\n"
                "Made to order — please allow **two to four weeks** before it ships."
            ),
            variants=(VariantSpec("MS-CASS-CUSTOM", 65000, ""),),
            colours=("#ff9966", "#ff5e62"),
            shape="cassette",
            popularity=0.4,
        ),
    ),
)

DRONES = ShopSpec(
    slug="garage-drones",
    name="Garage Drone Works",
    currency="USD",
    time_zone="America/Los_Angeles",
    country="US",
    cutoff=dt.time(14, 0),
    description=(
        "Two friends, one garage in Oakland, and far too many propellers. We design and build "
        "FPV racing drones and the parts we wished we could buy, and we answer every e-mail "
        "ourselves."
    ),
    owner_email="drones@kinfolk.test",
    owner_name="Sam Rivera",
    logo_colours=("#232526", "#fd7e14"),
    logo_shape="hexagon",
    zones=(
        ZoneSpec("United States (USPS)", ("US",), 800, 15000),
        ZoneSpec("Canada and Mexico", ("CA", "MX"), 1800),
        ZoneSpec("Rest of the world (DHL)", (), 3500),
    ),
    typical_order=9000,
    launches=(700, 210),
    spring_lift=1.3,
    products=(
        ProductSpec(
            slug="gdw-racer-5-kit",
            category="Drones",
            name='GDW Racer 5" kit',
            kind="physical",
            description=(
                "Everything you need to build a 5-inch freestyle and racing quad:\n\n"
                "1. Carbon frame (5 mm arms), cut in our garage\n"
                "2. 2306 motors and a 45 A 4-in-1 ESC\n"
                "3. F7 flight controller, pre-flashed with Betaflight\n\n"
                "Bring your own radio, goggles and batteries. The build takes an evening."
            ),
            variants=(
                VariantSpec("GDW-KIT5-ANA", 34900, "Analog video", 40),
                VariantSpec("GDW-KIT5-HD", 42900, "HD digital video", 25),
            ),
            colours=("#141e30", "#243b55"),
            shape="drone",
            popularity=1.5,
        ),
        ProductSpec(
            slug="fpv-goggles",
            category="Gear",
            name="FPV goggles",
            kind="physical",
            description=(
                'Lightweight box goggles with a 4.3" screen, diversity receiver and DVR. '
                "A good first pair that will not make you sick of flying."
            ),
            variants=(VariantSpec("GDW-GOG-43", 18900, "", 30),),
            colours=("#0f0c29", "#302b63"),
            shape="goggles",
            popularity=1.0,
        ),
        ProductSpec(
            slug="spare-propellers",
            category="Parts",
            name="Spare propellers (4-pack)",
            kind="physical",
            description=(
                'Tri-blade 5.1" propellers in tough polycarbonate: two clockwise, two '
                "counter-clockwise. You will break them; that is what they are for."
            ),
            variants=(
                VariantSpec("GDW-PROP5-BLK", 799, "Black", 600),
                VariantSpec("GDW-PROP5-ORG", 799, "Orange", 600),
            ),
            colours=("#f7971e", "#ffd200"),
            shape="propeller",
            popularity=4.0,
        ),
        ProductSpec(
            slug="lipo-battery",
            category="Parts",
            name="LiPo flight battery",
            kind="physical",
            description=(
                "Punchy lithium-polymer packs with XT60 connectors. Store them at storage "
                "voltage and never leave them charging unattended."
            ),
            variants=(
                VariantSpec("GDW-BAT-4S1500", 2999, "4S 1500 mAh", 200),
                VariantSpec("GDW-BAT-6S1100", 3499, "6S 1100 mAh", 150),
            ),
            colours=("#11998e", "#38ef7d"),
            shape="battery",
            popularity=3.0,
        ),
        ProductSpec(
            slug="build-guide-pdf",
            category="Guides",
            name="The Garage Build Guide (PDF)",
            kind="digital",
            description=(
                "Our 120-page build guide: soldering, tuning PIDs, and fixing the ten things "
                "that go wrong on every first build. **Instant download.**"
            ),
            variants=(VariantSpec("GDW-GUIDE-PDF", 1400, ""),),
            colours=("#4b6cb7", "#182848"),
            shape="book",
            popularity=1.5,
        ),
        ProductSpec(
            slug="custom-built-drone",
            category="Drones",
            name="Custom-built drone",
            kind="made_to_order",
            description=(
                "Tell us how you fly and we build, tune and test-fly a drone for you: frame, "
                "motors, camera and paint to your choice.\n\n"
                "Built to order; ships in **three to five weeks** with a flight log of its "
                "test flights."
            ),
            variants=(VariantSpec("GDW-CUSTOM", 125000, ""),),
            colours=("#ee0979", "#ff6a00"),
            shape="drone",
            popularity=0.15,
        ),
    ),
)

SHOPS = (BAND, DRONES)

DEMO_PASSWORD = "kinfolk-demo"
STAFF_EMAIL = "staff@kinfolk.test"
STAFF_NAME = "Jordan Lee"
FAN_EMAIL = "fan@kinfolk.test"
FAN_NAME = "박지우 (Jiwoo Park)"
ADMIN_EMAIL = "admin@kinfolk.test"
ADMIN_NAME = "Platform operator"
