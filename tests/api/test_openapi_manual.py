"""The OpenAPI document is the API's manual: Swagger UI and ReDoc teach only what it says, offline.

Every operation explains itself beyond its summary and shows an example; every parameter and every form or JSON
body field says what it is, and every parameter shows an example value. The docs pages load nothing from another
host (ReDoc's sidebar logo and Swagger UI's online validator badge included)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app

Operation = tuple[str, str, dict[str, Any]]
EXTERNAL = re.compile(r"""https?://(?!(?:testserver|localhost|127\.0\.0\.1)[:/"'])[^\s"'<>)]+""")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    settings = Settings(_env_file=None, device="cpu", data_dir=tmp_path_factory.mktemp("data"))  # type: ignore[call-arg]
    return TestClient(create_app(settings))  # no lifespan: the document and the pages need no models


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def has_example(node: dict[str, Any]) -> bool:
    return bool(node.get("example") is not None or node.get("examples"))


def test_the_document_lists_the_operations(document: dict[str, Any]) -> None:
    ids = {operation["operationId"] for _, _, operation in operations(document)}
    assert {"enhanceImage", "createJob", "getJob", "streamJobEvents", "getArtifact", "getHealth"} <= ids


def test_every_operation_explains_more_than_its_summary(document: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(document)
        if len(operation.get("description", "").strip()) <= len(operation.get("summary", ""))
    ]
    assert missing == []


def is_binary(body: dict[str, Any]) -> bool:
    return body.get("schema", {}).get("format") == "binary"


def test_every_operation_shows_an_example(document: dict[str, Any]) -> None:
    """A request example or a success example, on the operation itself (ReDoc's and Swagger UI's samples); an
    operation that answers only files or nothing shows at least an error example."""
    missing = []
    for method, path, operation in operations(document):
        success = [
            body
            for code, response in operation["responses"].items()
            if code[0] in "23"
            for body in response.get("content", {}).values()
        ]
        shown = [*operation.get("requestBody", {}).get("content", {}).values(), *success]
        if all(is_binary(body) for body in success):
            shown += [
                body for response in operation["responses"].values() for body in response.get("content", {}).values()
            ]
        if not any(has_example(body) for body in shown if not is_binary(body)):
            missing.append(f"{method} {path}")
    assert missing == []


def test_every_json_success_answers_with_an_example(document: dict[str, Any]) -> None:
    missing = []
    for method, path, operation in operations(document):
        for code, response in operation["responses"].items():
            body = response.get("content", {}).get("application/json")
            if code.startswith("2") and body is not None:
                schema = resolve(document, body.get("schema", {}))
                if not (
                    has_example(body) or has_example(schema) or has_example(resolve(document, schema.get("items", {})))
                ):
                    missing.append(f"{method} {path} {code}")
    assert missing == []


def test_every_parameter_has_a_description_and_an_example(document: dict[str, Any]) -> None:
    undescribed, without_example = [], []
    for method, path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            where = f"{method} {path} {parameter['in']} {parameter['name']}"
            if not parameter.get("description", "").strip():
                undescribed.append(where)
            if not (has_example(parameter) or has_example(parameter.get("schema", {}))):
                without_example.append(where)
    assert undescribed == []
    assert without_example == []


def test_every_body_field_has_a_description(document: dict[str, Any]) -> None:
    undescribed = []
    for method, path, operation in operations(document):
        for media_type, body in operation.get("requestBody", {}).get("content", {}).items():
            for name, field in resolve(document, body["schema"]).get("properties", {}).items():
                if not field.get("description", "").strip():
                    undescribed.append(f"{method} {path} {media_type} {name}")
    assert undescribed == []


def test_errors_name_their_problem_types(document: dict[str, Any]) -> None:
    """A caller learns which `type` each error status carries, from an example of the problem."""
    missing, problems = [], 0
    for method, path, operation in operations(document):
        for code, response in operation["responses"].items():
            if code[0] not in "45":
                continue
            content = response.get("content", {})
            if "application/problem+json" not in content:  # /readyz's 503 is its own body, with an example
                if not any(has_example(body) for body in content.values()):
                    missing.append(f"{method} {path} {code}")
                continue
            problems += 1
            examples = [e.get("value", {}) for e in content["application/problem+json"].get("examples", {}).values()]
            if not examples or any(
                not str(e.get("type", "")).startswith("https://enhance.example/problems/")
                or e.get("status") != int(code)
                for e in examples
            ):
                missing.append(f"{method} {path} {code}")
    assert missing == []
    assert problems > 30


def test_job_ids_in_examples_look_like_the_service_makes_them(document: dict[str, Any]) -> None:
    uuid4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    found = 0
    for _, _, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "job_id":
                values = [e["value"] for e in parameter.get("examples", {}).values()]
                values += [parameter["example"]] if "example" in parameter else []
                values += parameter.get("schema", {}).get("examples", [])
                assert values and all(uuid4.match(v) for v in values), values
                found += 1
    assert found >= 8


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_another_host(client: TestClient, page: str) -> None:
    html = client.get(page).text
    assert EXTERNAL.findall(html) == []
    scripts = re.findall(r"""<script[^>]*\bsrc=["']([^"']+)""", html)
    assert scripts, html
    for script in scripts:
        response = client.get(script)
        assert response.status_code == 200, script
        # An element the bundle creates with a source on another host is a request the browser makes by itself.
        assert re.findall(r"""\bsrc:\s*["']https?://""", response.text) == [], script
    if page == "/docs":
        # Swagger UI shows an online validator badge (an <img> from validator.swagger.io) for any spec not served
        # from localhost, unless validatorUrl is null.
        assert re.search(r'"validatorUrl":\s*null', html), html


def test_the_reference_is_linked_from_the_docs_site() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    assert any("/redoc" in page.read_text() for page in docs.rglob("*.md"))
