"""The API's Blueprint: flask-smorest's, with a request parser that holds JSON bodies to the document."""

from __future__ import annotations

import flask_smorest
import marshmallow as ma
from flask_smorest import abort
from webargs.flaskparser import FlaskParser, is_json_request


class JsonBodyParser(FlaskParser):
    """webargs reads a missing body, or one of another media type, as "no data", and a schema whose fields
    are all optional (every PATCH) then accepts it as an empty change. The OpenAPI document says each body
    is required and JSON, so: another media type is a 415 and no body at all a 422."""

    def load_json(self, req, schema):
        if not is_json_request(req) and (req.content_length or req.headers.get("Transfer-Encoding")):
            abort(415, message=f"Nội dung phải là JSON (application/json), không phải {req.mimetype or 'không rõ loại'}"
                               " (a JSON body is expected).")
        data = super().load_json(req, schema)
        if data is ma.missing:
            raise ma.ValidationError(["Thiếu nội dung JSON (a JSON request body is required)."])
        return data


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonBodyParser()
