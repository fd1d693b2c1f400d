"""Learning-rate policies, CNN arithmetic and transfer learning with Keras 3.

Modules that hold pure math (``lr_policies``, ``lr_range``, ``architectures``)
import no deep-learning framework; the Keras pieces (``learningratefinder``,
``clr_callback``, ``lenet``) are thin glue over them.
"""

__version__ = "0.1.0"
