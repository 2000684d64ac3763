import json

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


@pytest.mark.parametrize(("raw", "value"), [("false", False), ("0", False), ("sí", True)])
def test_boolean_settings_read_text_the_way_a_person_writes_it(raw, value):
    assert load(env={"ISSEG_BLIND_COUNT": raw}).blind_count is value


def test_hex_usb_ids_are_accepted_from_the_environment():
    assert load(env={"ISSEG_PRINTER_USB_VENDOR": "0x0416"}).printer_usb_vendor == 0x0416


@pytest.mark.parametrize(
    "values", [{"no_such_setting": 1}, {"printer_port": "nueve"}, {"blind_count": "quizá"}]
)
def test_unknown_or_malformed_settings_are_refused_with_their_name(values):
    with pytest.raises(ValueError) as err:
        Settings().with_values(values)
    assert next(iter(values)) in str(err.value)
