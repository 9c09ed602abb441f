"""``python -m schema``: print the SDL (``python -m schema > schema/schema.graphql``)."""

from schema import sdl

print(sdl(), end="")
