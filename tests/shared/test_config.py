import pytest

from shared.config import ConfigError, Settings


def test_embedded_defaults():
    s = Settings.from_env("all", env={})
    assert (s.amqp_url, s.mongodb_url, s.port) == ("memory://", "mongomock://", 8000)
    assert s.public_base_url == "http://127.0.0.1:8000"
    assert s.smtp_url is None and s.smtp_from == "congso@localhost"
    assert s.tz_name == "Asia/Ho_Chi_Minh" and s.ratings_per_minute == 60
    assert s.admin_token_generated and len(s.admin_token) >= 16
    assert s.webhook_secret_generated


@pytest.mark.parametrize("service, port", [("survey", 8001), ("scoring", 8002),
                                           ("notify", 8003), ("all", 8000)])
def test_each_service_has_its_port(service, port):
    s = Settings.from_env(service, env={})
    assert s.port == port
    assert s.public_base_url == f"http://127.0.0.1:{port}"


def test_values_from_the_environment_are_used():
    s = Settings.from_env("survey", env={
        "AMQP_URL": "amqp://u:p@rabbit:5672/v", "MONGODB_URL": "mongodb://db/congso",
        "ADMIN_TOKEN": "a" * 20, "PUBLIC_BASE_URL": "https://congso.example.vn/",
        "PORT": "9000", "SMTP_URL": "smtps://u:p@mail:465", "SMTP_FROM": "x@y.vn",
        "WEBHOOK_SECRET": "k", "TZ_NAME": "UTC", "RATINGS_PER_MINUTE": "10",
    })
    assert s.amqp_url == "amqp://u:p@rabbit:5672/v" and s.port == 9000
    assert s.public_base_url == "https://congso.example.vn"
    assert not s.admin_token_generated and s.admin_token == "a" * 20
    assert s.webhook_secret == "k" and s.tz_name == "UTC" and s.ratings_per_minute == 10


@pytest.mark.parametrize("variable, value", [
    ("AMQP_URL", "redis://x"),
    ("AMQP_URL", "rabbit"),
    ("MONGODB_URL", "postgres://x"),
    ("PORT", "eighty"),
    ("PORT", "70000"),
    ("PUBLIC_BASE_URL", "ftp://x"),
    ("PUBLIC_BASE_URL", "http://"),
    ("SMTP_URL", "mail.example.vn"),
    ("SMTP_URL", "smtp://mail:notaport"),
    ("TZ_NAME", "Mars/Olympus"),
    ("ADMIN_TOKEN", "short"),
    ("RATINGS_PER_MINUTE", "0"),
    ("LOG_LEVEL", "LOUD"),
])
def test_a_bad_value_is_an_error_naming_the_variable(variable, value):
    with pytest.raises(ConfigError) as info:
        Settings.from_env("survey", env={variable: value})
    assert info.value.variable == variable
    assert variable in str(info.value)


def test_blank_values_mean_the_default():
    s = Settings.from_env("scoring", env={"AMQP_URL": " ", "PORT": ""})
    assert s.amqp_url == "memory://" and s.port == 8002


def test_unknown_service_is_refused():
    with pytest.raises(ConfigError):
        Settings.from_env("billing", env={})


def test_demo_mode_only_on_the_embedded_database():
    assert Settings.from_env("all", env={}).demo
    assert not Settings.from_env("all", env={"MONGODB_URL": "mongodb://db/x"}).demo
    assert not Settings.from_env("survey", env={}).demo


def test_services_listen_on_loopback_unless_told_otherwise():
    assert Settings.from_env("all", env={}).host == "127.0.0.1"
    assert Settings.from_env("survey", env={"HOST": "0.0.0.0"}).host == "0.0.0.0"
    assert Settings.from_env("survey", env={"HOST": "::"}).host == "::"
    with pytest.raises(ConfigError) as info:
        Settings.from_env("survey", env={"HOST": "0.0.0.0:80"})
    assert info.value.variable == "HOST"
