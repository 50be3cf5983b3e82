"""docker-compose.yml stays true to the project: the services exist, every command a service built
from this repository runs names something real (the gunicorn target, the `flask` commands and
their options), and `docker-compose config` accepts the file when the binary is installed.

The `flask` command tree is read in a subprocess (create_app("testing") + Flask's own CLI group),
so this module needs no database and does not touch the session app of conftest.py.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
REQUIRED_SERVICES = {
    "mysql",
    "redis",
    "elasticsearch",
    "web",
    "realtime",
    "worker",
    "scheduler",
    "superset",
}
APP_SERVICES = {"web", "realtime", "migrate", "worker", "worker-heavy", "scheduler", "bi-setup"}
FAKE_SECRET = "compose-config-check-secret-key-0123456789"

# Prints the whole `flask` command tree as JSON: {"options": [...], "commands": {name: {...}}}.
_CLI_TREE_SCRIPT = r"""
import json
import sys

import click
from flask.cli import FlaskGroup, ScriptInfo

from app import create_app

app = create_app("testing")  # fails loudly here if the app cannot be built
info = ScriptInfo(create_app=lambda: app)
root = FlaskGroup(create_app=lambda: app)


def describe(command, ctx):
    options = {"--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            options.update(param.opts)
            options.update(param.secondary_opts)
    node = {"options": sorted(options), "commands": {}}
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                node["commands"][name] = describe(sub, click.Context(sub, info_name=name, parent=ctx, obj=info))
    return node


with click.Context(root, info_name="flask", obj=info) as ctx:
    json.dump(describe(root, ctx), sys.stdout)
"""


def _compose() -> dict:
    with COMPOSE_FILE.open() as fh:
        return yaml.safe_load(fh)


def _services() -> dict:
    return _compose()["services"]


def _command_lines(service: dict) -> list[list[str]]:
    """The argv of every program a service's `command` runs (`sh -c "a && b"` gives two)."""
    command = service.get("command")
    if command is None:
        return []
    argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    if argv and Path(argv[0]).name in ("sh", "bash") and "-c" in argv:
        script = argv[argv.index("-c") + 1]
        return [shlex.split(part) for part in re.split(r"&&|\|\||;", script) if part.strip()]
    return [argv]


def _app_commands() -> list[tuple[str, list[str]]]:
    lines = []
    for name, service in _services().items():
        if "build" in service:
            lines.extend((name, argv) for argv in _command_lines(service))
    return lines


@pytest.fixture(scope="module")
def flask_cli_tree() -> dict:
    env = dict(os.environ, APP_CONFIG="testing", PYTHONPATH=str(ROOT))
    env.setdefault(
        "TEST_DATABASE_URL", "mysql+mysqldb://root@127.0.0.1:3306/shop_test?charset=utf8mb4"
    )
    proc = subprocess.run(
        [sys.executable, "-c", _CLI_TREE_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, f"could not list the flask commands:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout)


def test_required_services_exist():
    services = _services()
    assert REQUIRED_SERVICES <= set(services), (
        f"missing: {sorted(REQUIRED_SERVICES - set(services))}"
    )


def test_every_queue_has_a_worker_and_heavy_jobs_fork():
    """Every RQ queue (jobs.QUEUES) is served by a `flask worker` service; the low queue (exports,
    rebuilds, training) by one that forks a work horse per job, the others in-process."""
    from jobs import QUEUES

    served: dict[str, list[str]] = {}
    for name, service in _services().items():
        command = service.get("command") or []
        if command[:2] != ["flask", "worker"]:
            continue
        queues = [a for a in command[2:] if not a.startswith("-") and not a.isdigit()]
        for queue in queues:
            served.setdefault(queue, []).append(name)
        assert ("--fork" in command) == (queues == ["low"]), (name, command)
    assert set(served) == set(QUEUES), served


def test_images_are_pinned():
    services = _services()
    assert services["mysql"]["image"] == "mariadb:10.11"
    assert services["redis"]["image"].startswith("redis:7")
    assert (
        services["elasticsearch"]["image"] == "docker.elastic.co/elasticsearch/elasticsearch:8.15.0"
    )


def test_app_services_are_built_from_this_repository():
    services = _services()
    for name in APP_SERVICES & set(services):
        build = services[name].get("build")
        assert build is not None, f"{name} should be built from this repository"
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        assert (ROOT / context / dockerfile).is_file(), (
            f"{name}: no {dockerfile} in build context {context}"
        )
        assert services[name].get("command"), f"{name} has no command"


def test_depends_on_names_existing_services():
    services = _services()
    for name, service in services.items():
        deps = service.get("depends_on") or []
        for dep in deps:
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert dep != name, f"{name} depends on itself"


def test_app_services_run_in_production_mode_with_a_real_secret():
    services = _services()
    for name in APP_SERVICES & set(services):
        env = services[name].get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        assert env.get("APP_CONFIG") == "production", name
        assert str(env.get("DATABASE_URL", "")).startswith("mysql+mysqldb://"), name
        assert "@mysql:3306/" in str(env.get("DATABASE_URL", "")), name
        assert env.get("REDIS_URL"), name
        assert env.get("ELASTICSEARCH_URL"), name
        # No literal or defaulted secret: the value must be required from the environment / .env.
        assert str(env.get("SECRET_KEY", "")).startswith("${SECRET_KEY:?"), (
            f"{name}: SECRET_KEY must be required"
        )


def test_web_serves_wsgi_app_with_gunicorn():
    (argv,) = _command_lines(_services()["web"])
    assert argv[0] == "gunicorn"
    assert argv[argv.index("-b") + 1] == "0.0.0.0:5000"
    assert argv[argv.index("-c") + 1] == "gunicorn.conf.py"


def test_gunicorn_settings_are_sync_workers_behind_the_buffering_proxy():
    """gunicorn.conf.py's sync workers are only safe behind a proxy that buffers requests and
    answers: `web` publishes no port, `proxy` (nginx, deploy/nginx.conf) does, and `web` trusts
    exactly that one hop for the client address."""
    from gunicorn.config import Config

    cfg = Config()
    namespace = {"__file__": str(ROOT / "gunicorn.conf.py")}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)
    for name in ("workers", "worker_class", "timeout", "bind"):
        cfg.set(name, namespace[name])
    assert cfg.worker_class_str == "sync" and cfg.workers >= 2 and cfg.timeout <= 60
    (argv,) = _command_lines(_services()["web"])
    assert not {"-k", "--worker-class", "--threads"} & set(argv), (
        "the worker model lives in gunicorn.conf.py"
    )
    services = _services()
    assert not services["web"].get("ports"), "web must only be reached through the proxy"
    assert str(services["web"]["environment"].get("PROXY_FIX_HOPS")) == "1"
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert "web" in proxy["depends_on"] and proxy["ports"]
    mount = next(v for v in proxy["volumes"] if v.endswith(":/etc/nginx/nginx.conf:ro"))
    conf = (ROOT / mount.split(":")[0]).read_text()
    for directive in (
        "proxy_pass http://web;",
        "proxy_request_buffering on;",
        "proxy_buffering on;",
        "server web:5000;",
        "X-Forwarded-For $proxy_add_x_forwarded_for",
    ):
        assert directive in conf, directive


def _env_of(service: dict) -> dict:
    env = service.get("environment") or {}
    return dict(item.split("=", 1) for item in env) if isinstance(env, list) else env


def test_socket_io_has_its_own_service_behind_the_proxy():
    """/socket.io/ reaches `realtime` (`flask realtime`: gunicorn with a threaded worker, not the
    sync web workers) through nginx, unbuffered, with the WebSocket upgrade and sticky sessions;
    the workers emit into the same Redis message queue that `realtime` listens to."""
    services = _services()
    realtime = services["realtime"]
    (argv,) = _command_lines(realtime)
    assert argv[:2] == ["flask", "realtime"] and argv[argv.index("--host") + 1] == "0.0.0.0"
    port = argv[argv.index("--port") + 1]
    assert not realtime.get("ports"), "realtime must only be reached through the proxy"
    env, worker_env = _env_of(realtime), _env_of(services["worker"])
    queue = env.get("SOCKETIO_MESSAGE_QUEUE") or env["REDIS_URL"]
    assert queue.startswith("redis://redis:")
    assert (worker_env.get("SOCKETIO_MESSAGE_QUEUE") or worker_env["REDIS_URL"]) == queue
    assert str(env.get("PROXY_FIX_HOPS")) == "1"
    assert "realtime" in services["proxy"]["depends_on"]

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream realtime \{(.*?)\}", conf, re.S)
    assert upstream, "no upstream realtime"
    assert "ip_hash;" in upstream.group(1), "long-polling needs sticky sessions"
    assert f"server realtime:{port};" in upstream.group(1)
    location = re.search(r"location /socket\.io/ \{(.*?)\}", conf, re.S)
    assert location, "no location /socket.io/"
    body = location.group(1)
    for directive in (
        "proxy_pass http://realtime;",
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_buffering off;",
    ):
        assert directive in body, directive
    timeout = re.search(r"proxy_read_timeout (\d+)s;", body)
    assert timeout and int(timeout.group(1)) > 45, "idle sockets ping every 25 s (+20 s timeout)"
    assert re.search(r"map \$http_upgrade \$connection_upgrade", conf)


@pytest.mark.parametrize(
    "service, argv", _app_commands(), ids=lambda v: v if isinstance(v, str) else " ".join(v)
)
def test_service_command_names_something_real(service, argv, request):
    program = argv[0]
    if program == "gunicorn":
        _check_gunicorn(argv)
    elif program == "flask":
        _check_flask(argv, request.getfixturevalue("flask_cli_tree"))
    else:
        pytest.fail(f"{service}: unexpected program {program!r} in {argv}")


def _check_gunicorn(argv: list[str]) -> None:
    from gunicorn.config import Config

    parser = Config().parser()
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            args = parser.parse_args(argv[1:])
    except SystemExit:
        pytest.fail(
            f"gunicorn rejects its options {argv}: {errors.getvalue().strip().splitlines()[-1:]}"
        )
    target = args.args[-1] if args.args else ""
    module, _, attr = target.partition(":")
    assert module and attr, f"gunicorn target should be module:variable, got {target!r}"
    path = ROOT / (module.replace(".", "/") + ".py")
    assert path.is_file(), f"gunicorn target module {module} has no {path.relative_to(ROOT)}"
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.AnnAssign,)) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    assert attr in names, f"{path.name} defines no top-level {attr!r} for gunicorn"


def _check_flask(argv: list[str], tree: dict) -> None:
    node, path, tokens = tree, ["flask"], argv[1:]
    while tokens and not tokens[0].startswith("-") and tokens[0] in node["commands"]:
        path.append(tokens[0])
        node = node["commands"][tokens.pop(0)]
    assert len(path) > 1, (
        f"`flask {' '.join(argv[1:2])}` is not a command the app registers "
        f"(known: {sorted(tree['commands'])})"
    )
    assert not node["commands"], (
        f"`{' '.join(path)}` is a group: name one of {sorted(node['commands'])}"
    )
    for token in tokens:
        if token.startswith("--"):
            option = token.split("=", 1)[0]
            assert option in node["options"], (
                f"`{' '.join(path)}` has no option {option} ({node['options']})"
            )


def test_superset_service_builds_its_own_image_and_reads_the_bi_views(flask_cli_tree):
    """Superset runs from its own image (its pins: it needs SQLAlchemy<2), with its metadata DB on
    MariaDB; `migrate` creates the read-only BI user and `bi-setup` imports the dashboards."""
    services = _services()
    superset = services["superset"]
    assert superset["build"]["dockerfile"] == "deploy/superset/Dockerfile"
    assert (ROOT / "deploy/superset/Dockerfile").is_file()
    env = superset["environment"]
    assert "@mysql:3306/superset" in env["SUPERSET_METADATA_DB_URI"]
    assert env["SUPERSET_SECRET_KEY"].startswith("${SUPERSET_SECRET_KEY:?")
    assert ["flask", "bi", "grant"] in _command_lines(services["migrate"])
    _check_flask(["flask", "bi", "grant"], flask_cli_tree)
    _check_flask(["flask", "bi", "import-dashboards"], flask_cli_tree)


def test_make_run_seed_command_exists(flask_cli_tree):
    """`make run` seeds an empty database with `flask seed --if-empty`."""
    _check_flask(["flask", "seed", "--if-empty"], flask_cli_tree)


def _docker_compose(*args: str, secret: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    # Superset's own required secrets (issue 17): given, so that the check is about SECRET_KEY
    env.setdefault("SUPERSET_SECRET_KEY", FAKE_SECRET + "-superset")
    env.setdefault("SUPERSET_ADMIN_PASSWORD", "compose-check")
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


needs_docker_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (scripts/test.sh installs it)",
)


@needs_docker_compose
def test_docker_compose_config_is_valid():
    proc = _docker_compose("config", "-q", secret=FAKE_SECRET)
    assert proc.returncode == 0, proc.stderr


@needs_docker_compose
@pytest.mark.skipif((ROOT / ".env").exists(), reason="a local .env may provide SECRET_KEY")
def test_docker_compose_refuses_to_run_without_secret_key():
    proc = _docker_compose("config", "-q", secret=None)
    assert proc.returncode != 0
    assert "SECRET_KEY" in proc.stderr
