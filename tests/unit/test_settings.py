import json
from dataclasses import fields

import pytest

from kiosk.settings import Settings, load


def test_defaults_need_no_file_and_no_environment(tmp_path):
    s = load(env={"ISSEG_DATA_DIR": str(tmp_path)})
    assert s == Settings(data_dir=str(tmp_path))
    assert s.database_file == tmp_path / "terminal.sqlite"


def test_environment_overrides_the_file_which_overrides_the_defaults(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps({"printer_kind": "network", "printer_port": 9101, "terminal_name": "Caja 2"})
    )
    s = load(env={"ISSEG_DATA_DIR": str(tmp_path), "ISSEG_PRINTER_PORT": "9102"})
    assert (s.printer_kind, s.printer_port, s.terminal_name) == ("network", 9102, "Caja 2")


@pytest.mark.parametrize(
    ("raw", "value"), [("false", False), ("0", False), ("TRUE", True), ("1", True)]
)
def test_boolean_settings_from_the_environment_are_true_or_false(raw, value):
    assert load(env={"ISSEG_BLIND_COUNT": raw}).blind_count is value


@pytest.mark.parametrize("raw", ["si", "sí", "yes", "", 1, None])
def test_a_boolean_that_is_not_true_or_false_is_refused_naming_the_key(tmp_path, raw):
    (tmp_path / "config.json").write_text(json.dumps({"cash_drawer": raw}))
    with pytest.raises(ValueError) as err:
        load(env={"ISSEG_DATA_DIR": str(tmp_path)})
    assert "cash_drawer debe ser true o false" in str(err.value)


def test_an_unknown_key_suggests_the_close_name_or_lists_them_all():
    with pytest.raises(ValueError) as close:
        Settings().with_values({"printer_knd": "usb"})
    assert "¿quiso decir printer_kind" in str(close.value)
    with pytest.raises(ValueError) as far:
        Settings().with_values({"impresora": "usb"})
    for f in fields(Settings):
        assert f.name in str(far.value)


def test_ca_bundle_must_be_a_readable_pem_file(tmp_path):
    with pytest.raises(ValueError, match="ca_bundle: no existe el archivo"):
        Settings().with_values({"ca_bundle": str(tmp_path / "no-existe.pem")})
    with pytest.raises(ValueError, match="ca_bundle: no se pudo leer"):
        Settings().with_values({"ca_bundle": str(tmp_path)})  # a folder
    (tmp_path / "ca.der").write_bytes(b"\x30\x82\x01\x0a")
    with pytest.raises(ValueError, match="no es un certificado PEM"):
        Settings().with_values({"ca_bundle": str(tmp_path / "ca.der")})


def test_hex_usb_ids_are_accepted_from_the_environment():
    assert load(env={"ISSEG_PRINTER_USB_VENDOR": "0x0416"}).printer_usb_vendor == 0x0416


@pytest.mark.parametrize(
    "values", [{"no_such_setting": 1}, {"printer_port": "nueve"}, {"blind_count": "quizá"}]
)
def test_unknown_or_malformed_settings_are_refused_with_their_name(values):
    with pytest.raises(ValueError) as err:
        Settings().with_values(values)
    assert next(iter(values)) in str(err.value)
