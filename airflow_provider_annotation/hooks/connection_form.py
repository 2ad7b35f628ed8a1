"""The connection form for Airflow before 3.2, in the shape those versions ask the hook for.

Airflow 3.2+ reads the form from the provider info (``conn-fields`` and ``ui-field-behaviour``).
Older versions call the hook's ``get_connection_form_widgets`` (WTForms fields) and
``get_ui_field_behaviour`` (snake_case keys). Both are derived here from the same provider info, so
every version shows the same labels, help texts and widgets.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from airflow_provider_annotation.get_provider_info import get_provider_info
from airflow_provider_annotation.version_compat import AIRFLOW_V_3_0_PLUS


def _connection_type() -> dict[str, Any]:
    (conn_type,) = get_provider_info()["connection-types"]
    return conn_type


def _json_type(schema: dict[str, Any]) -> str:
    """The one non-null JSON type of a field's schema."""
    types = schema.get("type", "string")
    types = [types] if isinstance(types, str) else [t for t in types if t != "null"]
    (json_type,) = types
    return json_type


def field_behaviour() -> dict[str, Any]:
    """``get_ui_field_behaviour``: hidden, relabelled and placeholder fields (snake_case keys)."""
    behaviour = _connection_type()["ui-field-behaviour"]
    return {
        "hidden_fields": list(behaviour["hidden-fields"]),
        "relabeling": dict(behaviour["relabeling"]),
        "placeholders": dict(behaviour["placeholders"]),
    }


def form_widgets() -> dict[str, Any]:
    """``get_connection_form_widgets``: one WTForms field per extra, a checkbox for booleans, a
    number box for whole numbers; other numbers are text boxes (Airflow accepts no float field),
    which the hook reads as numbers. Objects (``proxies``, a per-phase ``timeout``) go in Extra.

    Airflow 2 renders them with Flask-AppBuilder. Airflow 3.0 and 3.1 turn them into form fields
    when WTForms is installed (it comes with the FAB provider) and show only Extra otherwise."""
    if importlib.util.find_spec("wtforms") is None:
        return {}
    from wtforms import BooleanField, IntegerField, StringField
    from wtforms.validators import NumberRange, Optional

    text_widget: dict[str, Any] = {}
    if not AIRFLOW_V_3_0_PLUS:  # Flask-AppBuilder comes with Airflow 2
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget

        text_widget = {"widget": BS3TextFieldWidget()}

    widgets: dict[str, Any] = {}
    for name, field in _connection_type()["conn-fields"].items():
        schema = field["schema"]
        label, description = field["label"], field["description"]
        json_type = _json_type(schema)
        if json_type == "object":
            continue  # no form widget for objects in these versions: set them in Extra
        if json_type == "boolean":
            widgets[name] = BooleanField(label, description=description, default=schema.get("default"))
        elif json_type == "integer":
            validators = [Optional(), NumberRange(min=schema.get("minimum"))]
            widgets[name] = IntegerField(label, validators=validators, description=description, **text_widget)
        else:
            widgets[name] = StringField(
                label,
                validators=[Optional()],
                description=description,
                default=schema.get("default"),
                **text_widget,
            )
    return widgets
