"""Google's own Python client for Perspective, pointed at modgate's discovery document.

Usage: perspective_client.py DISCOVERY_URL KEY TEXT. Prints one JSON object: the analyze
and suggestscore responses, and the HTTP status the library reports for a wrong key.
"""

import json
import sys

from googleapiclient import discovery
from googleapiclient.errors import HttpError


def client(discovery_url, key):
    # As Perspective's own sample does, but with the discovery URL changed.
    return discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=key,
        discoveryServiceUrl=discovery_url,
        static_discovery=False,
        cache_discovery=False,
    )


def main():
    discovery_url, key, text = sys.argv[1:4]
    service = client(discovery_url, key)
    analyze = (
        service.comments()
        .analyze(
            body={
                "comment": {"text": text},
                "requestedAttributes": {"TOXICITY": {}},
                "languages": ["en"],
            }
        )
        .execute()
    )
    suggest = (
        service.comments()
        .suggestscore(
            body={
                "comment": {"text": text},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
                "clientToken": "py-1",
            }
        )
        .execute()
    )
    try:
        client(discovery_url, "mgk_not_a_key").comments().analyze(
            body={"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}
        ).execute()
        bad_key_status = 200
    except HttpError as e:
        bad_key_status = e.resp.status
    print(json.dumps({"analyze": analyze, "suggestscore": suggest, "bad_key_status": bad_key_status}))


if __name__ == "__main__":
    main()
