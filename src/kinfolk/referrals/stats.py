"""Word of mouth, measured for the shop: top sharers, who brought whom, the viral coefficient,
the channels that brought fans and followers over time.

Every function takes the shop first, counts in the database over one period
(``since`` ≤ t < ``until``) and never returns another shop's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate

from kinfolk.crm.models import Customer, Follow
from kinfolk.referrals.models import Channel, Referral, ReferralCredit, ShareLink, ShareVisit
from kinfolk.shops.models import Shop

TOP_SHARERS = 10
TREE_ROOTS = 8
TREE_DEPTH = 4
TREE_NODES = 300


def _count(queryset, group: str) -> Coalesce:
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def top_sharers(
    *, shop: Shop, since: dt.datetime, until: dt.datetime, limit: int = TOP_SHARERS
) -> list[Customer]:
    """Return the fans who brought the most people in the period, each with ``friends``
    (people referred), ``visits`` (through their link) and ``credits`` (what their friends
    did that counted for them); fans with neither friends nor visits are left out."""
    referrals = Referral.objects.filter(
        shop=shop, referrer=OuterRef("pk"), created_at__gte=since, created_at__lt=until
    )
    visits = ShareVisit.objects.filter(
        shop=shop, link__customer=OuterRef("pk"), visited_at__gte=since, visited_at__lt=until
    )
    credits = ReferralCredit.objects.filter(
        shop=shop,
        referral__referrer=OuterRef("pk"),
        occurred_at__gte=since,
        occurred_at__lt=until,
    )
    return list(
        Customer.objects.filter(shop=shop)
        .filter(Exists(ShareLink.objects.filter(shop=shop, customer=OuterRef("pk"))))
        .annotate(
            friends=_count(referrals, "referrer"),
            visits=_count(visits, "link__customer"),
            credits=_count(credits, "referral__referrer"),
        )
        .filter(Q(friends__gt=0) | Q(visits__gt=0))
        .order_by("-friends", "-visits", "-credits", "pk")[:limit]
    )


@dataclass(frozen=True)
class Coefficient:
    """The viral coefficient of a period and the figures it is made of."""

    visits: int
    invitations: int  # unique visitors through share links (visits without a visitor count each)
    sharing_fans: int  # fans whose link got at least one visit
    referred: int  # people the shop came to know through a share link

    @property
    def invitations_per_fan(self) -> float | None:
        return self.invitations / self.sharing_fans if self.sharing_fans else None

    @property
    def conversion(self) -> float | None:
        return self.referred / self.invitations if self.invitations else None

    @property
    def k(self) -> float | None:
        if self.invitations_per_fan is None or self.conversion is None:
            return None
        return self.invitations_per_fan * self.conversion

    @property
    def conversion_percent(self) -> float | None:
        return None if self.conversion is None else self.conversion * 100


def viral_coefficient(*, shop: Shop, since: dt.datetime, until: dt.datetime) -> Coefficient:
    """Return K = invitations per sharing fan × conversion per invitation for the period."""
    figures = ShareVisit.objects.filter(
        shop=shop, visited_at__gte=since, visited_at__lt=until
    ).aggregate(
        visits=Count("pk"),
        visitors=Count("visitor", distinct=True, filter=~Q(visitor="")),
        unnamed=Count("pk", filter=Q(visitor="")),
        # One share link per fan and shop: distinct links are distinct fans.
        sharing_fans=Count("link", distinct=True),
    )
    referred = Referral.objects.filter(
        shop=shop, created_at__gte=since, created_at__lt=until
    ).count()
    return Coefficient(
        visits=figures["visits"],
        invitations=figures["visitors"] + figures["unnamed"],
        sharing_fans=figures["sharing_fans"],
        referred=referred,
    )


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    label: str
    visits: int
    referred: int


def channels(*, shop: Shop, since: dt.datetime, until: dt.datetime) -> list[ChannelRow]:
    """Return visits and referred people per channel in the period, the busiest first
    (channels with neither left out)."""
    visits = dict(
        ShareVisit.objects.filter(shop=shop, visited_at__gte=since, visited_at__lt=until)
        .order_by()
        .values("channel")
        .annotate(n=Count("pk"))
        .values_list("channel", "n")
    )
    referred = dict(
        Referral.objects.filter(shop=shop, created_at__gte=since, created_at__lt=until)
        .order_by()
        .values("channel")
        .annotate(n=Count("pk"))
        .values_list("channel", "n")
    )
    labels = dict(Channel.choices)
    rows = [
        ChannelRow(
            value, str(labels.get(value, value)), visits.get(value, 0), referred.get(value, 0)
        )
        for value in set(visits) | set(referred)
    ]
    return sorted(rows, key=lambda row: (-row.referred, -row.visits, row.label))


@dataclass
class TreeNode:
    """A person in the referral tree, the people they brought, and how many more there are
    below the depth shown."""

    customer_id: int
    name: str
    channel: str = ""
    children: list[TreeNode] = field(default_factory=list)
    more: int = 0

    @property
    def size(self) -> int:
        """Return how many people this person brought, directly or through others (shown)."""
        return sum(1 + child.size for child in self.children) + self.more


def referral_tree(
    *,
    shop: Shop,
    since: dt.datetime,
    until: dt.datetime,
    roots: int = TREE_ROOTS,
    depth: int = TREE_DEPTH,
) -> list[TreeNode]:
    """Return who brought whom in the period, from the fans who brought the most without being
    brought themselves, ``depth`` levels deep (one query per level)."""
    period = Referral.objects.filter(shop=shop, created_at__gte=since, created_at__lt=until)
    root_ids = list(
        period.exclude(referrer__in=period.values("referred"))
        .order_by()
        .values("referrer")
        .annotate(n=Count("pk"))
        .order_by("-n", "referrer")
        .values_list("referrer", flat=True)[:roots]
    )
    nodes = {pk: TreeNode(pk, "") for pk in root_ids}
    level, budget = list(root_ids), TREE_NODES
    for _ in range(depth):
        if not level or budget <= 0:
            break
        edges = list(
            period.filter(referrer__in=level)
            .order_by("created_at", "pk")
            .values_list("referrer", "referred", "channel")[:budget]
        )
        level = []
        for referrer, referred, channel in edges:
            if referred in nodes:
                continue  # a merged or imported history may close a loop: show each once
            node = nodes[referred] = TreeNode(referred, "", channel)
            nodes[referrer].children.append(node)
            level.append(referred)
        budget -= len(edges)
    if level:
        below = dict(
            period.filter(referrer__in=level)
            .order_by()
            .values("referrer")
            .annotate(n=Count("pk"))
            .values_list("referrer", "n")
        )
        for pk, n in below.items():
            nodes[pk].more = n
    names = Customer.objects.filter(shop=shop, pk__in=list(nodes)).values_list(
        "pk", "name", "email"
    )
    for pk, name, email in names:
        nodes[pk].name = name or email or f"#{pk}"
    return [nodes[pk] for pk in root_ids]


@dataclass(frozen=True)
class Followers:
    """Followers before the period and by the end of each of its days."""

    before: int
    days: list[tuple[dt.date, int]]

    @property
    def now(self) -> int:
        return self.days[-1][1] if self.days else self.before

    @property
    def new(self) -> int:
        return self.now - self.before


def followers_per_day(
    *, shop: Shop, since: dt.datetime, until: dt.datetime, tz: ZoneInfo
) -> Followers:
    """Return how many of today's followers followed before the period and by the end of each
    of its days (in ``tz``); unfollowing deletes the row, so those who left count nowhere."""
    follows = Follow.objects.filter(shop=shop)
    before = total = follows.filter(followed_at__lt=since).count()
    per_day = dict(
        follows.filter(followed_at__gte=since, followed_at__lt=until)
        .annotate(day=TruncDate("followed_at", tzinfo=tz))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    first, last = since.astimezone(tz).date(), until.astimezone(tz).date()
    rows = []
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        total += per_day.get(day, 0)
        rows.append((day, total))
    return Followers(before=before, days=rows)
