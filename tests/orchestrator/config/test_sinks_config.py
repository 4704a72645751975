"""``outputs.sinks`` in a pipeline file: resolved, validated in the one pass, and open to third-party sinks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from helpers import make_video, run_cli, write_pipeline

from orchestrator.config import ConfigError, parse_pipeline
from orchestrator.sinks.jsonl import JsonlFileSink
from orchestrator.sinks.mqtt import MqttSink

HEAD = "version: 1\ndetectors:\n  hands: {plugin: testing.noop}\noutputs:\n  sinks:\n"


def _parse(items: str, folder: Path = Path("/data")) -> object:
    return parse_pipeline(HEAD + textwrap.indent(textwrap.dedent(items), "    "), folder / "p.yaml")


def test_sinks_resolve_with_names_defaults_and_paths(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    config = _parse(
        """
        - {type: mqtt, host: broker.local, topic: "cell7/{type}", qos: 2}
        - {type: jsonl, name: copy, path: out/copy.jsonl}
        """,
        tmp_path,
    )
    mqtt, copy = config.outputs.sinks
    assert (mqtt.name, mqtt.type, mqtt.sink_class, mqtt.origin, mqtt.line) == ("mqtt", "mqtt", MqttSink, "built-in", 7)
    assert mqtt.params == {"host": "broker.local", "topic": "cell7/{type}", "qos": 2}
    assert (copy.name, copy.sink_class) == ("copy", JsonlFileSink)
    assert copy.params == {"path": str(tmp_path / "out/copy.jsonl")}  # relative to the pipeline file
    assert config.to_dict()["outputs"]["sinks"][1] == {"name": "copy", "type": "jsonl", "path": copy.params["path"]}


@pytest.mark.parametrize(
    ("items", "messages"),
    [
        (
            "- {type: mqtt, host: a}\n- {type: mqtt, host: b}\n",
            ["p.yaml:7: outputs.sinks[1]: sink name 'mqtt' is taken by outputs.sinks[0]; give each sink its own name"],
        ),
        (
            "- {type: webhook, url: 'http://x', token: abc}\n",
            [
                "p.yaml:6: outputs.sinks[0].token: a token does not go in a pipeline file; put it in an environment "
                "variable and name that variable: the sink's *_env keys"
            ],
        ),
        (
            "- {type: mqtt, host: a, ca_file: missing.pem, qos: 1, bogus: 1}\n",
            [
                "p.yaml:6: outputs.sinks[0].bogus: unknown key 'bogus'; expected one of: ",
                "p.yaml:6: outputs.sinks[0].ca_file: file not found: /data/missing.pem",
            ],
        ),
        ("- {host: a}\n", ["p.yaml:6: outputs.sinks[0]: missing required key 'type'"]),
        ("- {type: mqtt, name: 'two words', host: a}\n", ["p.yaml:6: outputs.sinks[0].name: "]),
        ("- {type: mqtt, host: a, topic: 'x/#'}\n", ["wildcards + and # are for subscribing, not publishing"]),
        ("- {type: mqtt, host: a, password_env: PW}\n", ["outputs.sinks[0]: password_env: environment variable PW"]),
        (
            "- {type: webhook, url: 'http://x', authorization: abc}\n",
            ["outputs.sinks[0].authorization: an authorization does not go in a pipeline file"],
        ),
        # A password in the URL is refused, and never echoed (the summary would print it).
        ("- {type: webhook, url: 'http://me:s3cret@x/e'}\n", ["url: a user name or password does not go in"]),
        ("- {type: mqtt, host: '${NO_SUCH_HOST_VAR}'}\n", ["outputs.sinks[0].host: environment variable NO_SUCH"]),
    ],
    ids=[
        "duplicate-name", "secret", "bad-keys-and-file", "no-type", "bad-name", "wildcard", "unset-env",
        "secret-an", "url-credentials", "unset-host-var",
    ],
)
def test_wrong_sinks_are_reported_at_their_line(items: str, messages: list[str], monkeypatch) -> None:
    monkeypatch.delenv("PW", raising=False)
    monkeypatch.delenv("NO_SUCH_HOST_VAR", raising=False)
    with pytest.raises(ConfigError) as caught:
        _parse(items)
    text = str(caught.value)
    assert "s3cret" not in text
    assert len(text.splitlines()) == len(messages), text
    for line, message in zip(text.splitlines(), messages, strict=True):
        assert message in line, text


THIRD_PARTY = '''
from orchestrator.sinks.base import Sink, SinkStats

class TypesSink(Sink):
    """Appends each record's type to a text file."""
    params_schema = {"type": "object", "additionalProperties": False, "required": ["file"],
                     "properties": {"file": {"type": "string"}}}

    def __init__(self, file):
        self.file = file
        self.count = 0

    def write(self, record):
        with open(self.file, "a") as out:
            out.write(record["type"] + "\\n")
        self.count += 1

    def stats(self):
        return SinkStats(sent=self.count)
'''


def test_sink_strings_expand_environment_variables(monkeypatch) -> None:
    monkeypatch.setenv("BROKER_HOST", "broker.local")
    (spec,) = _parse("- {type: mqtt, host: '${BROKER_HOST}', topic: 'cell/${BROKER_HOST}/{type}'}\n").outputs.sinks
    assert spec.params["host"] == "broker.local" and spec.params["topic"] == "cell/broker.local/{type}"


def test_a_third_party_sink_from_an_entry_point(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "typessink.py").write_text(THIRD_PARTY, encoding="utf-8")
    info = site / "types_sink-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: types-sink\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[orchestrator.sinks]\ntypes = typessink:TypesSink\n", encoding="utf-8")
    env = {"PYTHONPATH": str(site)}
    make_video(tmp_path / "clip.avi", frames=3, size=(64, 48))
    pipeline = {
        "version": 1,
        "source": {"uri": "clip.avi"},
        "detectors": {"hands": {"plugin": "testing.noop"}},
        "outputs": {"records": ["detections"], "sinks": [{"type": "types", "file": str(tmp_path / "types.txt")}]},
    }
    path = write_pipeline(tmp_path / "p.yaml", yaml.safe_dump(pipeline))
    result = run_cli("run", path, "--events", tmp_path / "e.jsonl", "-q", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "types.txt").read_text().split() == ["stream.start"] + ["detections"] * 3 + ["summary"]
    summary = json.loads((tmp_path / "e.jsonl").read_text().splitlines()[-1])
    counts = {"type": "types", "sent": 4, "retried": 0, "dropped": 0, "queued": 0, "errors": 0}
    assert summary["sinks"] == {"types": counts}
    rows = {row["name"]: row for row in json.loads(run_cli("plugins", "--json", env=env).stdout)}
    assert (rows["types"]["kind"], rows["types"]["origin"]) == ("sink", "entry point")
    assert (rows["mqtt"]["kind"], rows["mqtt"]["params"]) == ("sink", dict(MqttSink.params_schema))
