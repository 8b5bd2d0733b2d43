"""api/routes/console/missing.py: the list address of conversations goes to the inbox; an unknown console page is the
console's "not found" page for a CSM and the sign-in page for a stranger; API-style paths keep their JSON errors."""

from fastapi.testclient import TestClient


def test_the_conversation_list_address_opens_the_inbox_with_its_filter(csm_client: TestClient) -> None:
    response = csm_client.get("/console/conversations?review=new", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/console?review=new")
    assert csm_client.get("/console/conversations", follow_redirects=False).headers["location"] == "/console"


def test_an_unknown_console_page_is_the_consoles_own_not_found_page(csm_client: TestClient) -> None:
    response = csm_client.get("/console/no-such-page/here")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "<title>Not found · Keepwell</title>" in response.text and "There is no such page." in response.text


def test_a_stranger_is_sent_to_sign_in_without_learning_which_pages_exist(client: TestClient) -> None:
    for path in ("/console/no-such-page", "/console/users"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/console/login"), path


def test_outside_the_console_an_unknown_path_is_still_a_json_404(client: TestClient) -> None:
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
