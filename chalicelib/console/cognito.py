"""Amazon Cognito's sign-in call, the one AWS call of the console (``InitiateAuth`` with
``USER_PASSWORD_AUTH``: the app client the data stack creates allows it, and has no secret)."""

from __future__ import annotations

from chalicelib.console.sign_in import BadCredentials

_client = None


def password_sign_in(region: str):
    """``(client_id, username, password) -> (id_token, expires_in seconds)``; BadCredentials
    for a wrong pair, an unknown or unconfirmed user, or a challenge (a new password to set)."""

    def call(client_id: str, username: str, password: str) -> tuple[str, int]:
        global _client
        if _client is None:
            import boto3  # only where a user pool exists

            _client = boto3.client("cognito-idp", region_name=region)
        errors = _client.exceptions
        try:
            answer = _client.initiate_auth(
                ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password})
        except (errors.NotAuthorizedException, errors.UserNotFoundException,
                errors.UserNotConfirmedException, errors.PasswordResetRequiredException):
            raise BadCredentials("wrong user name or password") from None
        result = answer.get("AuthenticationResult")
        if not result:
            raise BadCredentials(f"Cognito asks for {answer.get('ChallengeName')}: an admin "
                                 "must set this user's password (README: Consoles)")
        return result["IdToken"], int(result["ExpiresIn"])

    return call
