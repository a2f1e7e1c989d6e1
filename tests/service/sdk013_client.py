"""Runs under the OLD official SDK, nextmv==0.13.1, in its own virtualenv (.venv-sdk013).

Not a test module: ``test_sdk013.py`` runs it as ``<venv>/bin/python sdk013_client.py
ENDPOINT KEY MODE`` and reads one JSON document from stdout. Every call here validates the
service's answers with 0.13.1's pydantic models, which require the v1 ``status``.
"""

import json
import sys

from nextmv.cloud import Account, Application, Client, Configuration, PollingOptions

KNAPSACK = {
    "items": [
        {"id": "a", "value": 10, "weight": 5},
        {"id": "b", "value": 40, "weight": 4},
        {"id": "c", "value": 30, "weight": 6},
        {"id": "d", "value": 50, "weight": 3},
    ],
    "weight_capacity": 10,
}
POLLING = PollingOptions(initial_delay=0.1, delay=0.1, backoff=1, max_duration=600,
                         max_tries=6000)


def runs(client: Client) -> dict:
    app = Application(client=client, id="knapsack")
    run_id = app.new_run(input=KNAPSACK, configuration=Configuration(execution_class="6c9gb"))
    app.run_result_with_polling(run_id, polling_options=POLLING)
    result = app.run_result(run_id)
    with_result = app.new_run_with_result(input=KNAPSACK, polling_options=POLLING)
    return {
        "run_result": {
            "id": result.id,
            "status": result.metadata.status.value,
            "status_v2": result.metadata.status_v2.value,
            "value": result.output["solution"]["value"],
        },
        "new_run_with_result": {
            "status": with_result.metadata.status.value,
            "value": with_result.output["solution"]["value"],
        },
    }


def queue(client: Client) -> dict:
    entries = Account(client=client).queue().runs
    return {
        "runs": [
            {"id": run.id, "status": run.status.value, "status_v2": run.status_v2.value,
             "execution_class": run.execution_class}
            for run in entries
        ]
    }


def main() -> None:
    endpoint, key, mode = sys.argv[1:4]
    client = Client(api_key=key, url=endpoint)
    print(json.dumps({"runs": runs, "queue": queue}[mode](client)))


if __name__ == "__main__":
    main()
