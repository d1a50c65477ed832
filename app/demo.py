"""Demo data: one project, a key for it, a completion dataset and a trace dataset.

Idempotent: a second run finds the project and key recorded in ``data/demo.json`` and
creates nothing new.
"""

import os
from dataclasses import dataclass
from typing import Any

import orjson

from app.db.engine import Database
from app.domain import datasets, evaluations, keys, projects
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.errors import NotFound
from app.domain.keys import OPERATOR
from app.settings import Settings

PROJECT_NAME = "Demo project"
COMPLETION_DATASET = "support-replies"
TRACE_DATASET = "agent-tasks"


def _message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": [{"type": "text", "text": text}]}


# (customer, product, question, expected reply, category, priority, earlier turn or None)
_SUPPORT = [
    (
        "Ada",
        "Nimbus router",
        "My router keeps dropping Wi-Fi every evening.",
        "Sorry about the drops, Ada. Please update the Nimbus firmware to 4.2 and move the router "
        "off channel 11; evening congestion on that channel is the usual cause.",
        "connectivity",
        "high",
        None,
    ),
    (
        "Ben",
        "Nimbus router",
        "How do I change my Wi-Fi password?",
        "Open the Nimbus app, go to Network > Wi-Fi, tap the password field and save. Devices will "
        "need the new password to reconnect.",
        "how-to",
        "low",
        None,
    ),
    (
        "Chloe",
        "Orbit smart plug",
        "The plug shows offline in the app.",
        "Hold the plug's button for 5 seconds until it blinks blue, then add it again in the app. "
        "Make sure your phone is on the 2.4 GHz network while pairing.",
        "connectivity",
        "medium",
        ("I already restarted my phone.", "Thanks for trying that. Let's reset the plug itself."),
    ),
    (
        "Dev",
        "Orbit smart plug",
        "Can I schedule the plug to turn off at night?",
        "Yes: in the app open the plug, tap Schedules, add an 'Off' event at the time you want and "
        "choose the days it repeats.",
        "how-to",
        "low",
        None,
    ),
    (
        "Elena",
        "Billing",
        "I was charged twice this month.",
        "I'm sorry, Elena. I can see two charges on the 3rd; the second is a duplicate and I've "
        "refunded it. It will reach your card in 3 to 5 business days.",
        "billing",
        "high",
        None,
    ),
    (
        "Farid",
        "Billing",
        "How do I download my invoices?",
        "Go to Account > Billing > Invoices and click the download icon next to each month. You "
        "can also export all of them as one ZIP.",
        "billing",
        "low",
        None,
    ),
    (
        "Grace",
        "Nimbus router",
        "What is the maximum speed of the router?",
        "The Nimbus router supports Wi-Fi 6 with up to 2.4 Gbps on 5 GHz and 574 Mbps on 2.4 GHz; "
        "your real speed also depends on your internet plan.",
        "product-info",
        "low",
        None,
    ),
    (
        "Hiro",
        "Pulse camera",
        "The camera video is very blurry at night.",
        "Night mode needs the infrared LEDs: check that Settings > Night vision is on Auto and wipe "
        "the lens; glass in front of the camera also reflects the infrared light.",
        "quality",
        "medium",
        None,
    ),
    (
        "Ines",
        "Pulse camera",
        "How long are recordings kept?",
        "On the free plan clips are kept for 24 hours; with Pulse Plus they are kept for 30 days.",
        "product-info",
        "low",
        None,
    ),
    (
        "Jonas",
        "Account",
        "I can't log in, it says my password is wrong.",
        "Use 'Forgot password' on the login page to get a reset link by email. If it does not "
        "arrive in 10 minutes, check your spam folder.",
        "account",
        "high",
        ("I reset it yesterday already.", "Understood. The reset link expires after an hour."),
    ),
    (
        "Kim",
        "Account",
        "How do I delete my account?",
        "You can delete it under Account > Privacy > Delete account. This removes your devices and "
        "recordings permanently after a 14-day grace period.",
        "account",
        "medium",
        None,
    ),
    (
        "Luca",
        "Orbit smart plug",
        "Does the plug work with voice assistants?",
        "Yes, Orbit works with Alexa and Google Assistant. Link your account in the assistant's app "
        "under Smart Home skills.",
        "product-info",
        "low",
        None,
    ),
    (
        "Maya",
        "Billing",
        "Can I switch from monthly to yearly billing?",
        "Yes. Go to Account > Billing > Plan and choose Yearly; we credit the unused part of this "
        "month to the new plan.",
        "billing",
        "low",
        None,
    ),
    (
        "Noah",
        "Nimbus router",
        "The router's light is blinking red.",
        "A red blinking light means no internet signal from your provider. Check the cable into the "
        "WAN port and restart your modem, then the router.",
        "connectivity",
        "high",
        None,
    ),
    (
        "Olga",
        "Pulse camera",
        "Motion alerts come too often.",
        "Lower the motion sensitivity under Settings > Motion and draw an activity zone that leaves "
        "out the street or trees.",
        "how-to",
        "medium",
        None,
    ),
    (
        "Pavel",
        "Shipping",
        "Where is my order?",
        "Your order shipped yesterday; the tracking link in your confirmation email shows it "
        "arriving on Thursday.",
        "shipping",
        "medium",
        None,
    ),
    (
        "Quinn",
        "Shipping",
        "Can I change the delivery address?",
        "If the order has not shipped yet, edit it under Orders > Change address. After shipping, "
        "the carrier's tracking page lets you redirect it.",
        "shipping",
        "medium",
        None,
    ),
    (
        "Rosa",
        "Returns",
        "How do I return a camera I don't need?",
        "You can return it within 30 days: open Orders, choose Return item and print the free "
        "label. The refund is issued once it reaches us.",
        "returns",
        "low",
        None,
    ),
    (
        "Sami",
        "Returns",
        "My plug arrived broken.",
        "I'm sorry it arrived damaged, Sami. I've sent a free replacement today; you don't need to "
        "send the broken one back.",
        "returns",
        "high",
        ("The box was crushed too.", "Thanks for telling us; I've reported it to the carrier."),
    ),
    (
        "Tara",
        "Nimbus router",
        "Can I set up a guest network?",
        "Yes: in the app go to Network > Guest Wi-Fi, turn it on and choose a name and password. "
        "Guests cannot see your other devices.",
        "how-to",
        "low",
        None,
    ),
]

_AGENT_TASKS: list[dict[str, Any]] = [
    {
        "input": {"task": "Find the order status for order #10442 and email the customer."},
        "output": {"tool_calls": ["lookup_order", "send_email"], "status": "shipped"},
        "custom_metadata": {"difficulty": "easy", "tools": 2},
    },
    {
        "input": {"task": "Refund the duplicate charge on account 88-120 and confirm in chat."},
        "output": {"tool_calls": ["list_charges", "refund_charge"], "refunded": 29.0},
        "custom_metadata": {"difficulty": "medium", "tools": 2},
    },
    {
        "input": {"task": "Summarise this week's outage tickets by product."},
        "output": {"summary": {"Nimbus router": 14, "Pulse camera": 3, "Orbit smart plug": 1}},
        "custom_metadata": {"difficulty": "medium", "tools": 1},
    },
    {
        "input": {"task": "Schedule a technician visit for Tuesday morning at 12 Elm St."},
        "output": {"tool_calls": ["find_slot", "book_visit"], "slot": "Tuesday 09:00"},
        "custom_metadata": {"difficulty": "easy", "tools": 2},
    },
    {
        "input": {"task": "A customer asks to delete all their data. Handle it per policy."},
        "output": {"tool_calls": ["verify_identity", "request_deletion"], "grace_days": 14},
        "custom_metadata": {"difficulty": "hard", "tools": 2},
    },
]


def completion_examples() -> list[dict[str, Any]]:
    examples = []
    for customer, product, question, reply, category, priority, earlier in _SUPPORT:
        history = None
        if earlier is not None:
            history = [_message("user", earlier[0]), _message("assistant", earlier[1])]
        examples.append(
            {
                "inputs": {"customer_name": customer, "product": product, "question": question},
                "output": reply,
                "output_message": _message("assistant", reply),
                "history": history,
                "metadata": {"category": category, "priority": priority},
            }
        )
    return examples


@dataclass(frozen=True)
class Demo:
    project_id: str
    api_key: str


async def ensure_demo(db: Database, settings: Settings) -> Demo:
    """The demo project and its key, created on first use and reused afterwards."""
    demo = _read_demo_file(settings)
    project = None
    if demo is not None:
        try:
            project = await projects.get_project(db, OPERATOR, demo.project_id)
        except NotFound:
            project = None
    if project is None:
        project = await projects.create_project(db, PROJECT_NAME)
    if (
        demo is None
        or demo.project_id != project.id
        or not await keys.is_valid_key(db, demo.api_key)
    ):
        _, api_key = await keys.create_key(
            db, admin=False, project_ids=[project.id], name="demo key"
        )
        demo = Demo(project_id=project.id, api_key=api_key)
        _write_demo_file(settings, demo)
    await _ensure_demo_data(db, project.id)
    return demo


async def _ensure_demo_data(db: Database, project_id: str) -> None:
    existing = {
        d.name for d in (await datasets.list_datasets(db, OPERATOR, project_id, limit=1000)).items
    }
    for name, kind, description, examples in (
        (
            COMPLETION_DATASET,
            TestCaseType.COMPLETION,
            "Customer support questions with the replies we expect.",
            completion_examples(),
        ),
        (
            TRACE_DATASET,
            TestCaseType.TRACE,
            "Multi-step tasks for the support agent.",
            _AGENT_TASKS,
        ),
    ):
        if name in existing:
            continue
        dataset = await datasets.create_dataset(
            db,
            OPERATOR,
            project_id,
            NewDataset(
                name=name,
                test_case_type=kind,
                description=description,
                input_names=("customer_name", "product", "question")
                if kind is TestCaseType.COMPLETION
                else (),
                support_history=kind is TestCaseType.COMPLETION,
            ),
        )
        await datasets.add_test_cases(db, OPERATOR, project_id, dataset.id, examples)
    if not await evaluations.list_evaluations(db, OPERATOR, project_id):
        for new in (
            evaluations.NewEvaluation(
                "helpfulness", evaluations.EvaluationKind.NUMERIC, description="1 to 5"
            ),
            evaluations.NewEvaluation(
                "policy-compliant",
                evaluations.EvaluationKind.BOOLEAN,
                evaluations.EvaluationSource.HUMAN,
            ),
            evaluations.NewEvaluation(
                "tone",
                evaluations.EvaluationKind.CATEGORY,
                categories=("friendly", "neutral", "curt"),
            ),
        ):
            await evaluations.create_evaluation(db, OPERATOR, project_id, new)
    if not await evaluations.list_flavors(db, OPERATOR, project_id):
        await evaluations.create_flavor(
            db,
            OPERATOR,
            project_id,
            "small-model",
            {"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.2},
        )


def _read_demo_file(settings: Settings) -> Demo | None:
    try:
        data = orjson.loads(settings.demo_file.read_bytes())
        return Demo(project_id=str(data["project_id"]), api_key=str(data["api_key"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_demo_file(settings: Settings, demo: Demo) -> None:
    path = settings.demo_file
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    # Created readable by its owner only: it holds a key the database keeps only as a hash.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(orjson.dumps({"project_id": demo.project_id, "api_key": demo.api_key}))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def instructions(demo: Demo, base_url: str) -> str:
    """What a person needs to start: the key, the project, and calls to paste."""
    rest_body = orjson.dumps({"dataset_name": COMPLETION_DATASET, "include_outputs": True}).decode()
    query = (
        f'mutation {{ createTestRun(input: {{projectId: "{demo.project_id}", '
        f'datasetName: "{COMPLETION_DATASET}"}}) {{ testRun {{ id name testCases(first: 3) '
        "{ edges { node { __typename ... on CompletionTestCase { id values } "
        "... on TraceTestCase { id input } } } } } } }"
    )
    graphql_body = orjson.dumps({"query": query}).decode()
    return f"""
testrun-gateway demo
  API key     {demo.api_key}
  Project id  {demo.project_id}
  Datasets    {COMPLETION_DATASET} (20 completion cases), {TRACE_DATASET} (5 trace cases)

Create a test run over REST:
  curl -s -X POST {base_url}/api/v2/projects/{demo.project_id}/test-runs \\
    -H 'Authorization: Bearer {demo.api_key}' -H 'Content-Type: application/json' \\
    -d '{rest_body}'

The same over GraphQL (GraphiQL: {base_url}/graphql, REST docs: {base_url}/docs):
  curl -s -X POST {base_url}/graphql \\
    -H 'Authorization: Bearer {demo.api_key}' -H 'Content-Type: application/json' \\
    -d '{graphql_body}'
"""
