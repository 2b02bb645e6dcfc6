"""Geometry shared by the tiny builds and their processors."""

PATCH = 7          # vision patch; with the 2x2 merge one visual token covers 14x14 px
IMAGE_SIZE = 112   # tiny images are resized to this square: 8x8 = 64 visual tokens
