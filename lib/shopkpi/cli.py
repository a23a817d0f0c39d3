"""The `shopkpi` command line: demo data, ingestion, notebook runs, dashboards."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from shopkpi import paths
from shopkpi.errors import ShopkpiError


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_demo(args) -> int:
    from shopkpi.demo import generate_demo_client

    client = paths.check_client_name(args.client)
    params_file = paths.params_file(client)
    if not params_file.exists():
        template = paths.PROJECT_ROOT / "params" / "demo.yaml"
        params_file.parent.mkdir(parents=True, exist_ok=True)
        params_file.write_text(template.read_text(encoding="utf-8").replace("client: demo", f"client: {client}"), encoding="utf-8")
        _say(f"wrote {params_file}")
    started = time.perf_counter()
    summary = generate_demo_client(paths.client_data_dir(client), seed=args.seed, scale=args.scale,
                                   end_date=args.end_date, progress=lambda m: _say(f"  {m}"))
    _say(f"demo client {client!r}: {len(summary.files)} files, {summary.order_lines:,} order-export lines "
         f"({summary.unique_order_lines:,} unique), {summary.orders:,} orders, {summary.skus} SKUs, "
         f"{summary.creators} creators, {summary.videos:,} videos, {summary.live_sessions} LIVE sessions, "
         f"{summary.start_date} – {summary.end_date} in {time.perf_counter() - started:.1f}s")
    _say(f"raw exports: {paths.raw_dir(client)}")
    return 0


def cmd_ingest(args) -> int:
    from shopkpi.ingest.pipeline import ingest
    from shopkpi.params import load_client_params

    params = load_client_params(args.client)
    started = time.perf_counter()
    report = ingest(args.client, params, [Path(p) for p in args.paths] or None, market_hint=args.market,
                    progress=lambda m: _say(f"  {m}"))
    for line in report.summary_lines():
        _say(line)
    _say(f"ingested in {time.perf_counter() - started:.1f}s; store: {paths.store_dir(args.client)}")
    if report.failed:
        _say(f"{len(report.failed)} file(s) failed; everything else was stored (see messages above)")
        return 1
    return 0


def cmd_run(args) -> int:
    from shopkpi.app.runner import run_pipeline

    period, results = run_pipeline(args.client, args.period or "", args.language or "", args.notebooks, progress=_say)
    out = paths.period_outputs_dir(args.client, period)
    _say(f"\n{'notebook':<20} {'status':<10} {'seconds':>8}  error")
    for r in results:
        tries = f" (attempt {r.attempts})" if r.attempts > 1 else ""
        _say(f"{r.notebook:<20} {r.status:<10} {r.seconds:>8.1f}  {r.error}{tries}")
    from shopkpi.app.static_export import export_file

    if export_file(args.client, period).exists():
        _say(f"static dashboard for e-mail: {export_file(args.client, period)}")
    _say(f"\noutputs: {out}")
    if any(r.status == "needs_data" for r in results):
        _say("needs_data: that analysis has no data in the store yet; ingest the exports its message names")
    return 0 if all(r.status != "failed" for r in results) else 1


def cmd_export(args) -> int:
    from shopkpi.app.static_export import export_dashboard

    _say(str(export_dashboard(args.client, args.period or None)))
    return 0


def cmd_serve(args) -> int:
    import signal

    from shopkpi.app import batch, serve

    clients = batch.all_clients() if args.all else [args.client]
    for client in clients:
        if args.rotate_token:
            serve.client_token(client, rotate=True)
            _say(f"new dashboard token for {client!r}; links with the old one stop working now")
    try:
        server = serve.start(None if args.all else clients, ip=args.ip, port=args.port, public_url=args.public_url)
    except ValueError as err:  # a --public-url that would send the tokens in clear, or is no base address
        _say(f"error: {err}")
        return 2

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)  # a service manager's stop: shut the gate, Voila and its kernels down
    try:
        server.wait_until_serving()
        for client in clients:
            _say(f"dashboard for {client!r}: {server.link(client)}")
        where = "127.0.0.1 only" if args.ip == "127.0.0.1" else f"{args.ip}: put an HTTPS proxy in front (README)"
        if server.public_url:
            where = f"links through {server.public_url}; the gate listens on {args.ip}:{server.port}"
        _say(f"({where}; each link carries its client's token. Ctrl-C stops the server.)")
        return server.voila.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


def cmd_batch(args) -> int:
    from shopkpi.app import batch

    clients = batch.all_clients() if args.all else [c.strip() for c in (args.clients or "").split(",") if c.strip()]
    if not clients:
        raise ShopkpiError("name clients with --clients a,b,c or use --all")
    where = args.scheduler or f"a local cluster of {args.workers or __import__('os').cpu_count()} workers"
    started = time.perf_counter()
    if args.sync:
        _sync_before_batch(clients)
    _say(f"batch: {len(clients)} client(s) on {where}")
    runs = batch.run_batch(clients, args.period or "", args.language or "", workers=args.workers,
                           scheduler=args.scheduler, force=args.force, timeout=args.timeout,
                           notebooks=args.notebooks, progress=_say)
    _say("\n" + batch.summary_table(runs))
    log = batch.write_batch_log(runs, paths.workspace_root() / "outputs" / "_batch")
    failed = [r for r in runs if r.status == "failed"]
    _say(f"\n{len(runs) - len(failed)} ok or skipped, {len(failed)} failed in {time.perf_counter() - started:.1f}s; log: {log}")
    return 1 if failed else 0


def _app_credentials() -> tuple[str, str]:
    import os

    key, secret = os.environ.get("TIKTOK_SHOP_APP_KEY", ""), os.environ.get("TIKTOK_SHOP_APP_SECRET", "")
    if not key or not secret:
        raise ShopkpiError("set TIKTOK_SHOP_APP_KEY and TIKTOK_SHOP_APP_SECRET (the app's credentials from Partner Center) "
                           "in the environment; they are never read from or written to params/ or data/")
    return key, secret


def _api_client(client: str):
    from shopkpi.api.client import PartnerClient
    from shopkpi.params import load_client_params

    params = load_client_params(client)
    if params.api is None:
        raise ShopkpiError(f"client {client}: params/{client}.yaml has no `api:` section (shops with market and shop_cipher)")
    key, secret = _app_credentials()
    return params, PartnerClient(client, params.api, key, secret)


def cmd_connect(args) -> int:
    params, api = _api_client(args.client)
    if not args.code:
        _say("1. Send the seller this authorisation link (they sign in and approve):")
        _say("   " + api.authorize_url(args.service_id or "<service_id from Partner Center>", state=args.client, us=args.us))
        _say("2. Then run: shopkpi connect --client %s --code <the auth_code TikTok redirects with>" % args.client)
        return 0
    tokens = api.exchange_code(args.code)
    _say(f"connected {args.client} ({tokens.seller_name or 'seller'}); tokens stored encrypted in "
         f"{paths.api_tokens_file(args.client).relative_to(paths.workspace_root())}")
    return 0


def cmd_sync(args) -> int:
    from shopkpi.api.sync import sync

    params, api = _api_client(args.client)
    started = time.perf_counter()
    try:
        report = sync(params, api, since=args.since, progress=lambda m: _say(f"  {m}"))
    finally:
        api.close()
    for line in report.summary_lines() + (report.ingest.summary_lines() if report.ingest else []):
        _say(line)
    _say(f"synced in {time.perf_counter() - started:.1f}s with {api.requests:,} requests "
         f"(retries: {', '.join(f'{k} {v}' for k, v in sorted(api.retries.items())) or 'none'})")
    return 1 if report.ingest and report.ingest.failed else 0


def cmd_webhooks(args) -> int:
    from shopkpi.api.webhooks import serve

    paths.check_client_name(args.client)
    key, secret = _app_credentials()
    serve(args.client, key, secret, args.host, args.port)
    return 0


def _sync_before_batch(clients: list[str]) -> None:
    """Sync each client that has an `api:` section; a failed sync is reported and its client runs on what it has."""
    from shopkpi.api.sync import sync
    from shopkpi.params import load_client_params

    for client in clients:
        if load_client_params(client).api is None:
            continue
        try:
            params, api = _api_client(client)
            report = sync(params, api)
            _say(f"sync {client}: " + report.summary_lines()[0])
        except ShopkpiError as exc:
            _say(f"sync {client} failed, its run uses the store as it is: {exc}")


def cmd_notify(args) -> int:
    from shopkpi.app.dashboard import available_periods, default_period
    from shopkpi.notify import push

    period = args.period or default_period(args.client, available_periods(args.client, "kpis.json"))
    if not period:
        raise ShopkpiError(f"client {args.client}: no finished run to send; run `shopkpi run --client {args.client}` first")
    results = push(args.client, period, progress=_say)
    if not results:
        _say(f"client {args.client}: params has no notify.channels; nothing sent")
    return 0 if all(r["status"] == "sent" for r in results) else 1


def cmd_bench(args) -> int:
    if args.what == "ingest":
        from shopkpi.bench.ingest import bench_ingest

        bench_ingest(lines=args.lines, repeats=args.repeats, keep=Path(args.workdir) if args.workdir else None, say=_say)
    elif args.what in ("forecast", "restock"):  # restock: the former name
        from shopkpi.bench.forecast import bench_forecast

        bench_forecast(n_series=args.series, repeats=args.repeats, ets_sample=args.ets_sample, threads=args.threads)
    elif args.what == "batch":
        from shopkpi.bench.batch import bench_batch

        bench_batch(clients=args.clients, scale=args.scale, keep=Path(args.workdir) if args.workdir else None, say=_say)
    elif args.what == "dashboard":
        from shopkpi.bench.dashboard import bench_dashboard

        bench_dashboard(client=args.client, views=args.repeats, say=_say)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopkpi", description="TikTok Shop analysis workspace for brands and agencies.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="generate a realistic demo client in real Seller Center export formats")
    demo.add_argument("--client", default="demo", help="client name (default: demo)")
    demo.add_argument("--seed", type=int, default=42, help="random seed; same seed, same files (default: 42)")
    demo.add_argument("--scale", type=float, default=1.0, help="volume multiplier; 10 gives ~3M order lines (default: 1)")
    demo.add_argument("--end-date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 18),
                      help="last day of generated data, YYYY-MM-DD (default: 2026-11-18)")
    demo.set_defaults(func=cmd_demo)

    ingest = sub.add_parser("ingest", help="ingest a client's exports into its store")
    ingest.add_argument("--client", required=True)
    ingest.add_argument("paths", nargs="*", help="files or folders (default: data/CLIENT/raw/)")
    ingest.add_argument("--market", help="market code for files without a Country column, e.g. TH")
    ingest.set_defaults(func=cmd_ingest)

    run = sub.add_parser("run", help="run the notebooks for a client and period with papermill")
    run.add_argument("--client", required=True)
    run.add_argument("--period", help="ISO week (2026-W46) or month (2026-11); default: latest complete week")
    run.add_argument("--language", choices=["zh", "en"], help="report language (default: the client's)")
    run.add_argument("--notebooks", nargs="+", help="notebook names, in order (default: the whole pipeline)")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="serve dashboards (one client, or --all) with Voila behind per-client links")
    serve.add_argument("--client", default="demo")
    serve.add_argument("--all", action="store_true", help="every client in params/, each behind its own link")
    serve.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 behind an HTTPS proxy)")
    serve.add_argument("--port", type=int, help="port (default: a free one)")
    serve.add_argument("--public-url", help="the HTTPS address a reverse proxy serves the gate at, used in the printed links")
    serve.add_argument("--rotate-token", action="store_true", help="replace the token(s) first: old links stop working")
    serve.set_defaults(func=cmd_serve)
    export = sub.add_parser("export", help="write a client's dashboard pages as one static HTML file (for e-mail)")
    export.add_argument("--client", required=True)
    export.add_argument("--period", help="a period the client has a report for (default: the latest)")
    export.set_defaults(func=cmd_export)
    batch = sub.add_parser("batch", help="run the pipeline for many clients in parallel (Dask), failures isolated")
    who = batch.add_mutually_exclusive_group(required=True)
    who.add_argument("--clients", help="comma-separated client names")
    who.add_argument("--all", action="store_true", help="every params/*.yaml")
    batch.add_argument("--period", help="ISO week or month (default: each client's latest complete week)")
    batch.add_argument("--language", choices=["zh", "en"], help="report language (default: each client's)")
    batch.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    batch.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    batch.add_argument("--force", action="store_true", help="re-run clients whose inputs, params and code are unchanged")
    batch.add_argument("--sync", action="store_true", help="sync clients with an `api:` section from the Open API first")
    batch.add_argument("--notebooks", nargs="+", help="only these pipeline notebooks, in order (default: the whole pipeline)")
    batch.add_argument("--timeout", type=int, default=900, help="seconds a notebook cell may run (default 900)")
    batch.set_defaults(func=cmd_batch)

    connect = sub.add_parser("connect", help="authorise the TikTok Shop Open API for a client (link, then code exchange)")
    connect.add_argument("--client", required=True)
    connect.add_argument("--code", help="the auth_code from the redirect after the seller approved")
    connect.add_argument("--service-id", help="the app's service_id (Partner Center), for the authorisation link")
    connect.add_argument("--us", action="store_true", help="a US shop (its own authorisation host)")
    connect.set_defaults(func=cmd_connect)
    sync_cmd = sub.add_parser("sync", help="pull orders, returns and statements from the Open API since the last sync, then ingest them")
    sync_cmd.add_argument("--client", required=True)
    sync_cmd.add_argument("--since", type=dt.date.fromisoformat, help="re-read from this UTC date (default: where the last sync stopped)")
    sync_cmd.set_defaults(func=cmd_sync)
    hooks = sub.add_parser("webhooks", help="receive TikTok Shop webhooks: verify, de-duplicate, queue orders for the next sync")
    hooks_sub = hooks.add_subparsers(dest="action", required=True)
    hooks_serve = hooks_sub.add_parser("serve", help="listen for webhooks")
    hooks_serve.add_argument("--client", required=True)
    hooks_serve.add_argument("--host", default="127.0.0.1", help="put a TLS proxy in front for TikTok to reach it")
    hooks_serve.add_argument("--port", type=int, default=8787)
    hooks_serve.set_defaults(func=cmd_webhooks)

    notify = sub.add_parser("notify", help="send a period's review (summary, top alerts, PDF) to the client's notify channels")
    notify.add_argument("--client", required=True)
    notify.add_argument("--period", help="a period with a finished run (default: the latest)")
    notify.set_defaults(func=cmd_notify)

    bench = sub.add_parser("bench", help="benchmarks, each side by side with a reference in the same run")
    bench.add_argument("what", choices=["ingest", "forecast", "restock", "batch", "dashboard"],
                       help="ingest: full orders ingestion vs pyarrow.csv.read_csv; forecast (alias restock): our forecasting "
                            "pipeline (3-origin backtest + final 13-week forecast) vs per-series statsmodels ETS on a sample, extrapolated; "
                            "batch: demo clients through the batch with 1 and 2 workers (speedup, overheads); "
                            "dashboard: first figure of a client's Voila page vs a minimal Voila page and the static export")
    bench.add_argument("--client", default="demo", help="dashboard: a client with a finished run (default demo)")
    bench.add_argument("--clients", type=int, default=20, help="batch: demo clients (default 20)")
    bench.add_argument("--scale", type=float, default=0.02, help="batch: demo scale of each client (default 0.02)")
    bench.add_argument("--series", type=int, default=10_000, help="forecast: synthetic daily series of 730 days (default 10,000)")
    bench.add_argument("--ets-sample", type=int, default=40, help="forecast: series fitted by statsmodels ETS, then extrapolated (default 40)")
    bench.add_argument("--threads", type=int, default=1, help="forecast: threads for our global model (default 1; 2 helps only on an idle 2-core machine)")
    bench.add_argument("--lines", type=int, default=3_000_000, help="order lines in the generated export (default 3M, ~1.2 GB; 20000000 is the bounded-memory "
                            "case, ~8.4 GB, where the reference reads in batches with pyarrow.csv.open_csv)")
    bench.add_argument("--repeats", type=int, default=3, help="runs of each side; medians are reported (default 3)")
    bench.add_argument("--workdir", help="keep the generated export here and reuse it (default: a temp folder)")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ShopkpiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
