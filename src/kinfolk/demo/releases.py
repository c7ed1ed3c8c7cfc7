"""The band's releases in the demo: a free, e-mail-gated single, a pay-what-you-want EP and a
bonus track for fans who bring three friends, with real audio (a few seconds of tones as WAV,
made here) and covers; and three months of downloads, share links, visits, referrals and
follows, so that the growth page has something to show.

The releases are made through the setup services like a maker would; the history rows carry
past times and are bulk-inserted, as the order history is. Everything is looked for first, so a
second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import struct
import wave
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from kinfolk.catalog.models import Product
from kinfolk.catalog.services import product_image_add
from kinfolk.crm.models import Customer, Follow
from kinfolk.demo import images
from kinfolk.referrals.models import Channel, Referral, RewardRule, ShareVisit
from kinfolk.referrals.rewards import reward_rule_create
from kinfolk.referrals.services import share_link_get_or_create
from kinfolk.releases.models import Download, Grant, Release, ReleaseFile
from kinfolk.releases.services.setup import release_create, release_file_add
from kinfolk.shops.models import Shop

BAND_SLUG = "moonlit-static"
RATE = 16000
# Notes of each track (Hz): a short arpeggio, so that the demo's files sound like something.
A_MINOR = (220.0, 261.63, 329.63, 440.0)
F_MAJOR = (174.61, 220.0, 261.63, 349.23)
C_MAJOR = (261.63, 329.63, 392.0, 523.25)


@dataclass(frozen=True)
class TrackSpec:
    name: str
    notes: tuple[float, ...]


@dataclass(frozen=True)
class ReleaseSpec:
    slug: str
    name: str
    pricing: str
    minimum: int  # in the shop's minor units (KRW: won)
    suggested: int | None
    email_gate: bool
    tracks: tuple[TrackSpec, ...]
    colours: tuple[str, str]
    description: str
    status: str = Product.Status.ACTIVE


SINGLE = ReleaseSpec(
    slug="night-drive-single",
    name="Night Drive (free single)",
    pricing=Release.Pricing.FREE,
    minimum=0,
    suggested=None,
    email_gate=True,
    tracks=(TrackSpec("01 - Night Drive.wav", A_MINOR),),
    colours=("#0f2027", "#2c5364"),
    description="Our new single, free for your e-mail address. Share it with a friend!",
)
EP = ReleaseSpec(
    slug="paper-moons-ep",
    name="Paper Moons EP",
    pricing=Release.Pricing.PAY_WHAT_YOU_WANT,
    minimum=3000,
    suggested=8000,
    email_gate=False,
    tracks=(
        TrackSpec("01 - Paper Moons.wav", F_MAJOR),
        TrackSpec("02 - Mangwon Rain.wav", A_MINOR),
        TrackSpec("03 - Static Lullaby.wav", C_MAJOR),
    ),
    colours=("#3a1c71", "#d76d77"),
    description="Three songs from the basement studio. Pay what you want, from 3,000 won.",
)
BONUS = ReleaseSpec(
    slug="basement-demo-bonus",
    name="Basement Demo (bonus track)",
    pricing=Release.Pricing.FREE,
    minimum=0,
    suggested=None,
    email_gate=False,
    tracks=(TrackSpec("Basement Demo.wav", C_MAJOR),),
    colours=("#232526", "#414345"),
    description="For fans who brought three friends to Night Drive. Thank you!",
    # Not on the shop's shelves: it only reaches fans as the reward.
    status=Product.Status.DRAFT,
)

HISTORY_DAYS = 90
DOWNLOADERS = 140
SHARERS = 14


def tone_wav(notes: tuple[float, ...], *, seconds: float = 3.0) -> bytes:
    """Return a mono 16-bit WAV of ``notes`` played in turn, each fading out."""
    frames = bytearray()
    per_note = int(RATE * seconds / len(notes))
    for frequency in notes:
        for n in range(per_note):
            fade = 1.0 - n / per_note
            sample = 0.3 * fade * math.sin(2 * math.pi * frequency * n / RATE)
            frames += struct.pack("<h", int(sample * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def _release(shop: Shop, spec: ReleaseSpec) -> Release:
    existing = Release.objects.filter(shop=shop, product__slug=spec.slug).first()
    if existing is not None:
        return existing
    release = release_create(
        shop=shop,
        name=spec.name,
        slug=spec.slug,
        pricing=spec.pricing,
        price=spec.minimum,
        suggested_price=spec.suggested,
        email_gate=spec.email_gate,
        status=spec.status,
        description=spec.description,
    )
    for track in spec.tracks:
        upload = SimpleUploadedFile(track.name, tone_wav(track.notes), content_type="audio/wav")
        release_file_add(shop=shop, release=release, upload=upload)
    if spec.email_gate:
        # Behind the e-mail gate the page plays a preview, never the download itself.
        first = spec.tracks[0]
        clip = tone_wav(first.notes, seconds=1.5)
        upload = SimpleUploadedFile(f"Preview - {first.name}", clip, content_type="audio/wav")
        release_file_add(shop=shop, release=release, upload=upload, role=ReleaseFile.Role.PREVIEW)
    picture = images.product_picture(name=spec.name, colours=spec.colours, shape="disc")
    cover = SimpleUploadedFile(f"{spec.slug}.png", picture, content_type="image/png")
    product_image_add(shop=shop, product=release.product, upload=cover, alt=spec.name)
    return release


@transaction.atomic
def releases_build(*, shops: list[Shop], now: dt.datetime, seed: int = 2718) -> int:
    """Give the band's shop (when among ``shops``) its releases, reward rule and three months
    of awareness history; return how many downloads were added (0 on a second run)."""
    shop = next((shop for shop in shops if shop.slug == BAND_SLUG), None)
    if shop is None:
        return 0
    single, ep, bonus = (_release(shop, spec) for spec in (SINGLE, EP, BONUS))
    if not RewardRule.objects.filter(shop=shop, release=bonus).exists():
        reward_rule_create(
            shop=shop,
            name="3 friends download → bonus track",
            event="download",
            threshold=3,
            reward=RewardRule.Reward.BONUS_RELEASE,
            release=bonus,
        )
    if Download.objects.filter(shop=shop).exists():
        return 0
    return _history(shop, [single, ep], now=now, rng=random.Random(seed))


def _history(shop: Shop, releases: list[Release], *, now: dt.datetime, rng: random.Random) -> int:
    customers = list(
        Customer.objects.filter(shop=shop, erased_at__isnull=True)
        .exclude(email="")
        .order_by("pk")[: DOWNLOADERS + 40]
    )
    if len(customers) < SHARERS * 2:
        return 0
    start = now - dt.timedelta(days=HISTORY_DAYS)

    def moment(after: dt.datetime | None = None) -> dt.datetime:
        low = after or start
        # Busier towards the present: the single came out about two months ago and spreads.
        share = rng.random() ** 0.6
        return low + (now - low) * share

    downloaders = customers[:DOWNLOADERS]
    files = {release.pk: list(release.files.all()) for release in releases}
    grants, downloads = [], []
    for index, customer in enumerate(downloaders):
        # Everyone takes the free single; about a third also pays for the EP.
        chosen = releases[:1] + (releases[1:] if index % 3 == 0 else [])
        for release in chosen:
            when = moment()
            grant = Grant(
                shop=shop,
                release=release,
                customer=customer,
                account=customer.account,
                # The EP's paying fans would come with orders; the demo's order history is
                # built apart, so their copies count as given by the band.
                source=Grant.Source.FREE if release.is_free else Grant.Source.STAFF,
                created_at=when,
            )
            grants.append(grant)
            for track in files[release.pk][: rng.randint(1, len(files[release.pk]))]:
                downloads.append(
                    (grant, track, customer, when + dt.timedelta(minutes=rng.randint(1, 90)))
                )
    Grant.objects.bulk_create(grants, batch_size=500)
    Download.objects.bulk_create(
        [
            Download(
                shop=shop,
                release=grant.release,
                file=file,
                grant=grant,
                customer=customer,
                downloaded_at=min(when, now),
            )
            for grant, file, customer, when in downloads
        ],
        batch_size=500,
    )
    _word_of_mouth(shop, customers, now=now, start=start, rng=rng)
    _follows(shop, downloaders, now=now, rng=rng, moment=moment)
    return len(downloads)


CHANNEL_WEIGHTS = (
    (Channel.KAKAOTALK, 5),
    (Channel.X, 3),
    (Channel.DIRECT, 3),
    (Channel.WHATSAPP, 1),
    (Channel.FACEBOOK, 1),
    (Channel.EMAIL, 1),
    (Channel.OTHER, 1),
)


def _word_of_mouth(
    shop: Shop, customers: list[Customer], *, now: dt.datetime, start: dt.datetime, rng
) -> None:
    """Share links for the first fans, visits through them across channels, and a small tree of
    referrals: each sharer brought a few of the later customers, some of whom brought others."""
    channels = [channel for channel, _weight in CHANNEL_WEIGHTS]
    weights = [weight for _channel, weight in CHANNEL_WEIGHTS]
    sharers = customers[:SHARERS]
    referred = set(Referral.objects.filter(shop=shop).values_list("referred_id", flat=True))
    pool = [c for c in customers[SHARERS:] if c.pk not in referred]
    rng.shuffle(pool)
    visits, referrals = [], []
    queue = [(sharer, 0) for sharer in sharers]
    while queue and pool:
        sharer, depth = queue.pop(0)
        link = share_link_get_or_create(shop=shop, customer=sharer)
        opened = rng.randint(2, 14) if depth == 0 else rng.randint(1, 5)
        for visit in range(opened):
            channel = rng.choices(channels, weights)[0]
            when = start + (now - start) * rng.random() ** 0.5
            visitor = f"demo-{sharer.pk}-{visit}" if rng.random() > 0.1 else ""
            visits.append(
                ShareVisit(
                    shop=shop,
                    link=link,
                    visited_at=when,
                    channel=channel,
                    path="/moonlit-static/releases/night-drive-single/",
                    visitor=visitor,
                )
            )
            # About a third of the people who open a link become fans the shop knows.
            if pool and rng.random() < (0.35 if depth == 0 else 0.25):
                friend = pool.pop()
                referrals.append(
                    Referral(
                        shop=shop,
                        referrer=sharer,
                        referred=friend,
                        link=link,
                        channel=channel,
                        first_visit_at=when,
                        created_at=min(now, when + dt.timedelta(minutes=rng.randint(2, 600))),
                    )
                )
                if depth < 2:
                    queue.append((friend, depth + 1))
    ShareVisit.objects.bulk_create(visits, batch_size=500)
    Referral.objects.bulk_create(referrals, batch_size=500)


def _follows(shop: Shop, downloaders: list[Customer], *, now, rng, moment) -> None:
    taken = set(Follow.objects.filter(shop=shop).values_list("customer_id", flat=True))
    Follow.objects.bulk_create(
        [
            Follow(shop=shop, customer=customer, followed_at=moment(), source="demo")
            for customer in downloaders
            if customer.pk not in taken and rng.random() < 0.45
        ],
        batch_size=500,
    )
