"""The auth proxy: routes ``/deployment/<id>/...`` to model Services, checking client tokens."""
