"""``python -m canonical_model export|check [DIRECTORY]``: write or verify the committed schemas."""

import sys

from canonical_model.schemas import main

sys.exit(main())
