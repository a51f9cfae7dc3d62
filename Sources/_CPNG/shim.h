// Thin wrappers around libpng's classic API. libpng reports errors with longjmp, which Swift
// cannot catch, so every call that may fail runs inside one of these functions, behind setjmp.
// They return 0 on success and non-zero on failure, with a message in `info->message`.
#ifndef SR_PNG_SHIM_H
#define SR_PNG_SHIM_H
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned int width;
    unsigned int height;
    int channels;     // after expansion: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    int bitDepth;     // after expansion: 8 or 16
    int sourceBitDepth;
    int sourceColorType;
    int interlaced;
    char message[256];
} srpng_info;

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
    srpng_info *info;
} srpng_source;

static void srpng_error(png_structp png, png_const_charp msg) {
    srpng_info *info = (srpng_info *)png_get_error_ptr(png);
    if (info) { strncpy(info->message, msg ? msg : "libpng error", sizeof(info->message) - 1); }
    png_longjmp(png, 1);
}

static void srpng_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void srpng_read(png_structp png, png_bytep out, png_size_t length) {
    srpng_source *src = (srpng_source *)png_get_io_ptr(png);
    if (src->offset + length > src->size) {
        png_error(png, "truncated file (unexpected end of data)");
    }
    memcpy(out, src->data + src->offset, length);
    src->offset += length;
}

/// Reads the header and the transforms' effect; with `out == NULL` it stops after the header,
/// otherwise it decodes the whole image into `out` (rows of width*channels samples; 16-bit samples
/// in native byte order).
static int srpng_decode(const unsigned char *data, size_t size, srpng_info *info,
                        unsigned char *out, size_t outSize) {
    memset(info, 0, sizeof(*info));
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        strcpy(info->message, "not a PNG file (bad signature)");
        return 1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, info, srpng_error, srpng_warning);
    if (!png) { strcpy(info->message, "out of memory"); return 1; }
    png_infop pinfo = png_create_info_struct(png);
    if (!pinfo) { png_destroy_read_struct(&png, NULL, NULL); strcpy(info->message, "out of memory"); return 1; }
    png_bytep *volatile rows = NULL;
    srpng_source src = { data, size, 0, info };
    if (setjmp(png_jmpbuf(png))) {
        if (rows) free(rows);
        png_destroy_read_struct(&png, &pinfo, NULL);
        return 1;
    }
    png_set_read_fn(png, &src, srpng_read);
    // Refuse nothing by size here: the caller checks the pixel limit before decoding.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, pinfo);
    png_uint_32 width = 0, height = 0;
    int bitDepth = 0, colorType = 0, interlace = 0;
    png_get_IHDR(png, pinfo, &width, &height, &bitDepth, &colorType, &interlace, NULL, NULL);
    info->sourceBitDepth = bitDepth;
    info->sourceColorType = colorType;
    info->interlaced = interlace != PNG_INTERLACE_NONE;
    if (colorType == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colorType == PNG_COLOR_TYPE_GRAY && bitDepth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, pinfo, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bitDepth == 16) png_set_swap(png);
#endif
    int passes = png_set_interlace_handling(png);
    (void)passes;
    png_read_update_info(png, pinfo);
    info->width = width;
    info->height = height;
    info->channels = png_get_channels(png, pinfo);
    info->bitDepth = png_get_bit_depth(png, pinfo);
    if (out == NULL) {
        png_destroy_read_struct(&png, &pinfo, NULL);
        return 0;
    }
    size_t rowBytes = png_get_rowbytes(png, pinfo);
    if (rowBytes * (size_t)height > outSize) {
        strcpy(info->message, "output buffer too small");
        png_destroy_read_struct(&png, &pinfo, NULL);
        return 1;
    }
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (!rows) { strcpy(info->message, "out of memory"); png_destroy_read_struct(&png, &pinfo, NULL); return 1; }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = out + rowBytes * y;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    rows = NULL;
    png_destroy_read_struct(&png, &pinfo, NULL);
    return 0;
}

typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
    int failed;
} srpng_sink;

static void srpng_write(png_structp png, png_bytep bytes, png_size_t length) {
    srpng_sink *sink = (srpng_sink *)png_get_io_ptr(png);
    if (sink->size + length > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity * 2 : 65536;
        while (capacity < sink->size + length) capacity *= 2;
        unsigned char *grown = (unsigned char *)realloc(sink->data, capacity);
        if (!grown) { sink->failed = 1; png_error(png, "out of memory"); }
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, bytes, length);
    sink->size += length;
}

static void srpng_flush(png_structp png) { (void)png; }

/// Encodes samples (`channels` 1–4 interleaved; 16-bit samples in native byte order, packed
/// bit depths 1/2/4 for gray and palette given one sample per byte) into a PNG held in `sink`
/// (free `sink->data` with `free`). `palette` (RGB triples, `paletteCount` entries) is used when
/// `colorType` is PNG_COLOR_TYPE_PALETTE.
static int srpng_encode(const unsigned char *samples, unsigned int width, unsigned int height,
                        int colorType, int bitDepth, int interlaced, const unsigned char *palette,
                        int paletteCount, int compressionLevel, srpng_sink *sink, srpng_info *info) {
    memset(info, 0, sizeof(*info));
    memset(sink, 0, sizeof(*sink));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, info, srpng_error, srpng_warning);
    if (!png) { strcpy(info->message, "out of memory"); return 1; }
    png_infop pinfo = png_create_info_struct(png);
    if (!pinfo) { png_destroy_write_struct(&png, NULL); strcpy(info->message, "out of memory"); return 1; }
    unsigned char *volatile row = NULL;
    if (setjmp(png_jmpbuf(png))) {
        if (row) free(row);
        png_destroy_write_struct(&png, &pinfo);
        free(sink->data);
        sink->data = NULL;
        sink->size = 0;
        return 1;
    }
    png_set_write_fn(png, sink, srpng_write, srpng_flush);
    png_set_compression_level(png, compressionLevel);
    png_set_IHDR(png, pinfo, width, height, bitDepth, colorType,
                 interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (colorType == PNG_COLOR_TYPE_PALETTE) {
        png_color entries[256];
        for (int i = 0; i < paletteCount && i < 256; i++) {
            entries[i].red = palette[3 * i];
            entries[i].green = palette[3 * i + 1];
            entries[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, pinfo, entries, paletteCount);
    }
    png_write_info(png, pinfo);
    int channels = 1;
    switch (colorType) {
        case PNG_COLOR_TYPE_GRAY_ALPHA: channels = 2; break;
        case PNG_COLOR_TYPE_RGB: channels = 3; break;
        case PNG_COLOR_TYPE_RGB_ALPHA: channels = 4; break;
        default: channels = 1; break;
    }
    if (bitDepth < 8) png_set_packing(png);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bitDepth == 16) png_set_swap(png);
#endif
    int passes = png_set_interlace_handling(png);
    size_t sampleBytes = bitDepth == 16 ? 2 : 1;
    size_t rowBytes = (size_t)width * channels * sampleBytes;
    for (int pass = 0; pass < passes; pass++) {
        for (unsigned int y = 0; y < height; y++) {
            png_write_row(png, (png_const_bytep)(samples + rowBytes * y));
        }
    }
    png_write_end(png, pinfo);
    png_destroy_write_struct(&png, &pinfo);
    return 0;
}

#endif
