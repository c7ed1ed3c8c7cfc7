"""Private files in an S3-compatible bucket: a release file is stored there, not on disk, and a
fan's signed link streams it back. The bucket is a real S3 API served over HTTP on loopback
(moto's server); the site runs in its own process, configured only by environment variables,
exactly as an installation would be."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest
from tests.releases.conftest import wav_bytes

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")
pytest.importorskip("storages")

SITE = textwrap.dedent(
    """
    import datetime as dt, json, os
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    call_command("migrate", verbosity=0)
    from kinfolk.accounts.models import User
    from kinfolk.crm.services import customer_get_or_create
    from kinfolk.releases.links import download_token
    from kinfolk.releases.services import grant_give
    from kinfolk.releases.services.setup import release_create, release_file_add
    from kinfolk.shops.services import shop_create

    song = open(os.environ["SONG_FILE"], "rb").read()
    owner = User.objects.create_user("owner@example.com", "pw-12345-pw")
    shop = shop_create(
        slug="cloud", name="Cloud", currency="USD", time_zone="UTC", country="US", owner=owner
    )
    release = release_create(shop=shop, name="Sky Song", status="active")
    file = release_file_add(
        shop=shop, release=release,
        upload=SimpleUploadedFile("sky.wav", song, "audio/wav"),
    )
    fan = customer_get_or_create(shop=shop, email="fan@example.com")
    grant = grant_give(shop=shop, release=release, customer=fan, source="free")
    token = download_token(grant_id=grant.pk, file_id=file.pk, lifetime=dt.timedelta(hours=1))
    response = Client(HTTP_HOST="127.0.0.1").get(
        reverse("storefront:release-download", args=["cloud", token])
    )
    body = b"".join(response.streaming_content)
    on_disk = [
        name for _root, _dirs, names in os.walk(os.environ["KINFOLK_DATA_DIR"] + "/private")
        for name in names
    ]
    print(json.dumps({
        "status": response.status_code,
        "same": body == song,
        "key": file.file.name,
        "on_disk": on_disk,
    }))
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def bucket():
    """Return (endpoint, bucket name) of a fresh bucket on an S3 server on loopback."""
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket="kinfolk-private")
    try:
        yield endpoint, "kinfolk-private", client
    finally:
        server.stop()


def test_a_release_file_lives_in_the_bucket_and_streams_through_a_signed_link(bucket, tmp_path):
    # Given an installation configured for the bucket by its environment
    endpoint, name, client = bucket
    song = wav_bytes(seconds=4.0)
    song_file = tmp_path / "song.bin"
    song_file.write_bytes(song)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kinfolk.settings",
        "KINFOLK_DATA_DIR": str(tmp_path / "data"),
        "KINFOLK_PRIVATE_S3_BUCKET": name,
        "KINFOLK_PRIVATE_S3_ENDPOINT": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_S3_REGION_NAME": "us-east-1",
        "SONG_FILE": str(song_file),
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    # When the maker uploads a release file and a fan follows their signed link
    done = subprocess.run(
        [sys.executable, "-c", SITE],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # Then the file is in the bucket and nowhere on disk, and the fan gets its bytes
    stored = client.get_object(Bucket=name, Key=result["key"])["Body"].read()
    assert stored == song
    assert result["on_disk"] == []
    assert (result["status"], result["same"]) == (200, True)
