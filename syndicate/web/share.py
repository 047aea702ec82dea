"""TODO(owner): share blueprint."""

from flask import Blueprint

bp = Blueprint("share", __name__)
