"""Forms behind the catalog admin: product photos checked before decoding, barcodes in any form,
CSV imports checked for size before anything reads them."""

import warnings
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AdminFileWidget
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image

from catalog.barcodes import BarcodeError, gtin_normalise
from catalog.models import Barcode, Product, ProductImport
from catalog.services import ERROR_BARCODE_REPEATED, ERROR_BARCODE_TAKEN

ERROR_IMAGE_TOO_LARGE = "The image is {size}; the largest allowed is {limit}."
ERROR_IMAGE_TOO_MANY_PIXELS = (
    "The image is {width} × {height} pixels; at most {limit:,} pixels in total are allowed."  # noqa: RUF001
)
ERROR_IMAGE_HUGE = "The image has far more than {limit:,} pixels."
ERROR_IMAGE_UNREADABLE = "This file is not an image the store can read (use JPEG, PNG or WebP)."
ERROR_IMPORT_TOO_LARGE = (
    "The file is {size}; the largest file the import takes is {limit}. Split it into smaller "
    "files and import them one after the other."
)

PRODUCT_FIELDS = (
    "name",
    "slug",
    "category",
    "price",
    "sold_by",
    "stock",
    "active",
    "description",
    "image",
)
BARCODE_HELP = "EAN-13, UPC-A, UPC-E, EAN-8 or GTIN-14; stored as the 14-digit GTIN."


class ProductImageField(forms.ImageField):
    """An image field that checks file size and pixel count before Pillow decodes anything.

    Only the header is read (``Image.open`` is lazy), so a small file declaring a huge
    picture is refused without being decompressed.
    """

    def to_python(self, data: Any) -> Any:
        if data not in self.empty_values:
            _check_image_header(data)
        return super().to_python(data)


def _check_image_header(upload: UploadedFile) -> None:
    max_bytes = settings.PRODUCT_IMAGE_MAX_BYTES
    if upload.size is not None and upload.size > max_bytes:
        raise forms.ValidationError(
            ERROR_IMAGE_TOO_LARGE.format(
                size=filesizeformat(upload.size), limit=filesizeformat(max_bytes)
            ),
            code="image_too_large",
        )
    width, height = _image_size(upload)
    max_pixels = settings.PRODUCT_IMAGE_MAX_PIXELS
    if width * height > max_pixels:
        raise forms.ValidationError(
            ERROR_IMAGE_TOO_MANY_PIXELS.format(width=width, height=height, limit=max_pixels),
            code="image_too_many_pixels",
        )


def _image_size(upload: UploadedFile) -> tuple[int, int]:
    """Width and height from the image header alone."""
    try:
        with warnings.catch_warnings():
            # Our own limit, checked next, is far stricter than Pillow's warning threshold.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                size = image.size
    except Image.DecompressionBombError as exc:
        raise forms.ValidationError(
            ERROR_IMAGE_HUGE.format(limit=settings.PRODUCT_IMAGE_MAX_PIXELS),
            code="image_too_many_pixels",
        ) from exc
    except Exception as exc:  # Pillow raises many kinds of errors for a broken header
        raise forms.ValidationError(ERROR_IMAGE_UNREADABLE, code="invalid_image") from exc
    finally:
        upload.seek(0)
    return size


class ProductAdminForm(forms.ModelForm):
    image = ProductImageField(required=False, widget=AdminFileWidget)
    # Left out (a form posted by a script that predates the field): sold by the piece.
    sold_by = forms.TypedChoiceField(
        choices=Product.SoldBy.choices,
        required=False,
        empty_value=Product.SoldBy.EACH,
        initial=Product.SoldBy.EACH,
        help_text=Product._meta.get_field("sold_by").help_text,
    )

    class Meta:
        model = Product
        fields = PRODUCT_FIELDS


class ProductImportFileField(forms.FileField):
    """A CSV file no larger than ``PRODUCT_IMPORT_MAX_BYTES``, judged by the size the upload
    arrived with: a file over it is refused before anything opens it."""

    def to_python(self, data: Any) -> Any:
        max_bytes = settings.PRODUCT_IMPORT_MAX_BYTES
        size = getattr(data, "size", None)
        if data not in self.empty_values and size is not None and size > max_bytes:
            raise forms.ValidationError(
                ERROR_IMPORT_TOO_LARGE.format(
                    size=filesizeformat(size), limit=filesizeformat(max_bytes)
                ),
                code="import_too_large",
            )
        return super().to_python(data)


class ProductImportForm(forms.ModelForm):
    file = ProductImportFileField(
        label="CSV file",
        help_text="UTF-8 CSV, as the export writes it; at most {limit}.",
    )

    class Meta:
        model = ProductImport
        fields = ["file", "mode"]
        widgets = {"mode": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["file"]
        limit = filesizeformat(settings.PRODUCT_IMPORT_MAX_BYTES)
        field.help_text = str(field.help_text).format(limit=limit)


class BarcodeInlineForm(forms.ModelForm):
    """One barcode row: staff type any GS1 form, the row stores the canonical GTIN-14."""

    gtin = forms.CharField(label="Barcode", max_length=32, help_text=BARCODE_HELP)

    class Meta:
        model = Barcode
        fields = ["gtin"]

    def clean_gtin(self) -> str:
        try:
            gtin = gtin_normalise(self.cleaned_data["gtin"]).gtin
        except BarcodeError as exc:
            raise forms.ValidationError(str(exc), code="invalid_barcode") from exc
        taken = (
            Barcode.objects.filter(gtin=gtin)
            .exclude(pk=self.instance.pk)
            .select_related("product")
            .first()
        )
        if taken is None:
            return gtin
        if taken.product_id == self.instance.product_id:
            raise forms.ValidationError(ERROR_BARCODE_REPEATED.format(gtin=gtin), code="repeated")
        raise forms.ValidationError(
            ERROR_BARCODE_TAKEN.format(gtin=gtin, product=taken.product.name), code="taken"
        )


class BarcodeInlineFormSet(forms.BaseInlineFormSet):
    """Refuses the same barcode twice on one product, whatever forms it was typed in."""

    def clean(self) -> None:
        seen: set[str] = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            gtin = data.get("gtin")
            if not gtin or data.get("DELETE"):
                continue
            if gtin in seen:
                raise forms.ValidationError(
                    ERROR_BARCODE_REPEATED.format(gtin=gtin), code="repeated"
                )
            seen.add(gtin)
        super().clean()
