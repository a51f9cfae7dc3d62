// Thin wrappers around libjpeg-turbo. libjpeg reports fatal errors through longjmp, which Swift
// cannot catch, so each decode/encode runs entirely inside one of these functions, behind setjmp.
// They return 0 on success and non-zero on failure, with a message in `info->message`.
#ifndef SR_JPEG_SHIM_H
#define SR_JPEG_SHIM_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    unsigned int width;
    unsigned int height;
    int channels;          // components delivered: 1 (gray), 3 (RGB) or 4 (CMYK, Adobe-inverted as stored)
    int sourceColorSpace;  // J_COLOR_SPACE of the file
    int progressive;
    int truncated;         // libjpeg hit the end of data before the image was complete
    char message[JMSG_LENGTH_MAX + 64];
} srjpeg_info;

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    srjpeg_info *info;
} srjpeg_error_mgr;

static void srjpeg_error_exit(j_common_ptr cinfo) {
    srjpeg_error_mgr *err = (srjpeg_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->info->message);
    longjmp(err->jump, 1);
}

static void srjpeg_emit_message(j_common_ptr cinfo, int level) {
    srjpeg_error_mgr *err = (srjpeg_error_mgr *)cinfo->err;
    if (level < 0) {
        // A warning. Premature end of data is the one we refuse (a truncated file decodes to a
        // partly gray image otherwise); other corrupt-data warnings are tolerated like most decoders.
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) err->info->truncated = 1;
        cinfo->err->num_warnings++;
    }
}

/// Installs the error manager that records messages in `info` and long-jumps on fatal errors.
static struct jpeg_error_mgr *srjpeg_errors(srjpeg_error_mgr *err, srjpeg_info *info) {
    struct jpeg_error_mgr *base = jpeg_std_error(&err->base);
    err->base.error_exit = srjpeg_error_exit;
    err->base.emit_message = srjpeg_emit_message;
    err->info = info;
    return base;
}

/// Decodes a JPEG held in memory. With `out == NULL` it stops after the header (filling `info`);
/// otherwise it decodes into `out` (height rows of width*channels bytes).
static int srjpeg_decode(const unsigned char *data, size_t size, srjpeg_info *info,
                         unsigned char *out, size_t outSize) {
    memset(info, 0, sizeof(*info));
    struct jpeg_decompress_struct cinfo;
    srjpeg_error_mgr err;
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = srjpeg_errors(&err, info);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    info->width = cinfo.image_width;
    info->height = cinfo.image_height;
    info->sourceColorSpace = cinfo.jpeg_color_space;
    info->progressive = cinfo.progressive_mode;
    switch (cinfo.jpeg_color_space) {
        case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; info->channels = 1; break;
        case JCS_CMYK: case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; info->channels = 4; break;
        default: cinfo.out_color_space = JCS_RGB; info->channels = 3; break;
    }
    if (out == NULL) {
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    jpeg_start_decompress(&cinfo);
    size_t rowBytes = (size_t)cinfo.output_width * cinfo.output_components;
    if (rowBytes * cinfo.output_height > outSize || cinfo.output_components != info->channels) {
        strcpy(info->message, "output buffer does not match the decoded image");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + rowBytes * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
        if (info->truncated) break;
    }
    if (info->truncated) {
        strcpy(info->message, "truncated file (premature end of JPEG data)");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_finish_decompress(&cinfo);
    int truncated = info->truncated;
    jpeg_destroy_decompress(&cinfo);
    if (truncated) {
        strcpy(info->message, "truncated file (premature end of JPEG data)");
        return 1;
    }
    return 0;
}

/// Encodes 8-bit samples (1 = gray or 3 = RGB channels) with libjpeg's defaults and
/// `jpeg_set_quality(quality, TRUE)` (the IJG quality scaling of the standard tables, as Pillow and
/// OpenCV call it), 4:2:0 chroma subsampling for RGB, baseline Huffman coding.
/// On success `*outData` holds `*outSize` bytes to release with `free`.
static int srjpeg_encode(const unsigned char *samples, unsigned int width, unsigned int height,
                         int channels, int quality, unsigned char **outData, unsigned long *outSize,
                         srjpeg_info *info) {
    memset(info, 0, sizeof(*info));
    *outData = NULL;
    *outSize = 0;
    struct jpeg_compress_struct cinfo;
    srjpeg_error_mgr err;
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = srjpeg_errors(&err, info);
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        if (*outData) { free(*outData); *outData = NULL; }
        *outSize = 0;
        return 1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, outData, outSize);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t rowBytes = (size_t)width * channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(samples + rowBytes * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return 0;
}

#endif
