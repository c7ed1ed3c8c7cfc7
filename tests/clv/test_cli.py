"""``kinfolk clv fit`` end to end on CSV files, and its answers to bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from kinfolk.clv.cli import main

from .synthetic_shop import draw_shop


def write_csv(path, rows, header=("customer", "date", "total")):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def fit_args(path, *extra):
    return [
        "fit",
        "--transactions",
        str(path),
        "--customer-col",
        "customer",
        "--date-col",
        "date",
        "--amount-col",
        "total",
        *extra,
    ]


@pytest.fixture
def shop_csv(tmp_path):
    ids, dates, amounts = draw_shop(3000, seed=8)
    rows = [
        (f"fan-{customer}@example.com", f"{day}T10:30:00", f"{amount:.2f}")
        for customer, day, amount in zip(ids, dates, amounts, strict=True)
    ]
    return write_csv(tmp_path / "orders.csv", rows)


def test_fit_prints_both_models_as_json(shop_csv, capsys):
    code = main(fit_args(shop_csv, "--calibration-end", "2024-09-30"))
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["customers"] == 3000 and report["repeat_customers"] > 30
    assert report["unit"] == "week" and report["calibration_end"] == "2024-09-30"
    assert set(report["bgnbd"]) == {"r", "alpha", "a", "b", "loglik"}
    assert set(report["gammagamma"]) == {"p", "q", "gamma", "loglik", "customers"}
    assert report["bgnbd"]["loglik"] < 0
    assert report["fallback"] is None
    assert report["holdout"]["actual_purchases"] > 0
    assert report["holdout"]["predicted_purchases"] == pytest.approx(
        report["holdout"]["actual_purchases"], rel=0.25
    )


def test_cdnow_through_the_command(tmp_path, cdnow_transactions, capsys):
    ids, dates, amounts = cdnow_transactions
    rows = zip(ids.tolist(), dates.astype(str).tolist(), amounts.tolist(), strict=True)
    path = write_csv(tmp_path / "cdnow.csv", rows)
    assert main(fit_args(path, "--calibration-end", "1997-09-30")) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["bgnbd"]["r"] == pytest.approx(0.2426, rel=1e-3)
    assert report["bgnbd"]["alpha"] == pytest.approx(4.4136, rel=1e-3)
    assert report["bgnbd"]["loglik"] == pytest.approx(-9582.43, abs=0.01)
    assert report["gammagamma"]["gamma"] == pytest.approx(15.44, abs=0.005)
    assert (report["customers"], report["repeat_customers"]) == (2357, 946)


def test_small_shop_reports_the_fallback(tmp_path, capsys):
    rows = [("a", "2024-01-01", "10"), ("a", "2024-02-01", "12"), ("b", "2024-01-03", "8")]
    assert main(fit_args(write_csv(tmp_path / "small.csv", rows))) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["fallback"] == "too_few_repeat_customers"
    assert report["bgnbd"] is None and report["gammagamma"] is None
    assert report["pooled"]["spend"] == 12.0


def test_scores_file(shop_csv, tmp_path, capsys):
    scores = tmp_path / "scores.csv"
    assert main(fit_args(shop_csv, "--scores", str(scores), "--unit", "day")) == 0
    with scores.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3000
    assert rows[0]["customer"].startswith("fan-")
    assert 0 <= float(rows[0]["p_alive"]) <= 1
    assert float(rows[0]["clv"]) >= 0


def test_other_date_formats_and_delimiters(tmp_path, capsys):
    rows = [(f"c{i % 40}", f"{1 + i % 28:02d}/0{1 + i % 9}/2024", "9.5") for i in range(400)]
    path = tmp_path / "semicolons.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["customer", "date", "total"])
        writer.writerows(rows)
    code = main(fit_args(path, "--date-format", "%d/%m/%Y", "--delimiter", ";"))
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["customers"] == 40

    compact = write_csv(tmp_path / "compact.csv", [("a", "20240105", "1"), ("a", "20240301", "2")])
    assert main(fit_args(compact, "--date-format", "%Y%m%d", "--unit", "day")) == 0
    assert json.loads(capsys.readouterr().out)["calibration_end"] == "2024-03-01"


def test_missing_column_is_named(shop_csv, capsys):
    args = fit_args(shop_csv)
    args[args.index("total")] = "amount"
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no column 'amount' (--amount-col)" in err
    assert "'customer', 'date', 'total'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("a", "2024-01-01", "1"), ("b", "01/02/2024", "2")], "line 3: cannot read the date"),
        ([("a", "2024-02-30", "1")], "line 2: cannot read the date '2024-02-30'"),
        ([("a", "20240101", "1")], "line 2: cannot read the date '20240101'"),
        ([("a", "", "1")], "line 2: cannot read the date"),
        ([("a", "2024-01-01", "$5")], "line 2: cannot read the amount '$5'"),
        ([("a", "2024-01-01", "nan")], "line 2: cannot read the amount 'nan'"),
        ([("", "2024-01-01", "1")], "line 2: no customer id"),
        ([("a", "2024-01-01")], "line 2: 2 fields, the columns need 3"),
    ],
)
def test_bad_lines_are_reported_with_their_number(tmp_path, capsys, rows, message):
    path = tmp_path / "bad.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer", "date", "total"])
        writer.writerows(rows)
    assert main(fit_args(path)) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setup", "extra", "message"),
    [
        (lambda p: None, [], "cannot open"),
        (lambda p: p.write_text(""), [], "is empty"),
        (lambda p: p.write_text("customer,date,total\n"), [], "has no transactions"),
        (
            lambda p: p.write_text("customer,date,total\na,2024-01-01,1\n"),
            ["--calibration-end", "2023-01-01"],
            "no customer bought on or before the calibration end 2023-01-01",
        ),
        (
            lambda p: p.write_text("customer,date,total\na,2024-01-01,1\n"),
            ["--calibration-end", "soon"],
            "--calibration-end 'soon' is not a date",
        ),
        (lambda p: p.write_bytes(b"customer,date,total\n\xff\xfe,1,2\n"), [], "not UTF-8"),
    ],
)
def test_file_problems(tmp_path, capsys, setup, extra, message):
    path = tmp_path / "input.csv"
    setup(path)
    assert main(fit_args(path, *extra)) == 2
    assert message in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    assert main(["fit", "--transactions", "x.csv"]) == 2
    assert "required" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["--help"]) == 0


def test_a_bad_column_in_a_real_process_prints_one_line(tmp_path):
    """As the installed command runs it: exit status 2 and one line on stderr, no traceback."""
    path = write_csv(tmp_path / "orders.csv", [("a", "2024-01-01", "1")])
    args = fit_args(path)
    args[args.index("customer")] = "email"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from kinfolk.clv.cli import main; sys.exit(main())",
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        (
            "kinfolk clv: no column 'email' (--customer-col) in the file; its columns are: "
            "'customer', 'date', 'total'"
        )
    ]
