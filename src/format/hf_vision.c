/* hf_vision.c - the vision tower and projector of a Hugging Face vision-language config.json
 * (vision_config beside the text model: LLaVA's CLIP, Gemma 3's SigLIP, Llama 4's own), counted
 * into the model's vision_params for hf_config.c. */
#include "format/hf_doc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A vision tower class: its transformers defaults (CLIPVisionConfig, SiglipVisionConfig,
 * Llama4VisionConfig) and the parts of its embeddings. `parent`: the multimodal model_type whose
 * vision_config is this class when the config does not say. */
typedef struct {
    const char *model_type, *parent;
    double hidden, intermediate, layers, patch, image;
    int class_token; /* a learned class embedding with its own position (CLIP, Llama 4) */
    int patch_bias;  /* the patch embedding has a bias (SigLIP's Conv2d) */
    int pre_norm;    /* a LayerNorm before the encoder (CLIP's pre_layrnorm, Llama 4) */
} hf_vision_family;

static const hf_vision_family hf_vision_families[] = {
    {"clip_vision_model", "llava", 768, 3072, 12, 32, 224, 1, 0, 1},
    {"clip_vision_model", "llava_next", 768, 3072, 12, 32, 224, 1, 0, 1},
    {"siglip_vision_model", "gemma3", 768, 3072, 12, 16, 224, 0, 1, 0},
    {"llama4_vision_model", "llama4", 768, 5632, 34, 14, 448, 1, 0, 1},
};

static const hf_vision_family *hf_vision_family_find(const char *type, const char *parent) {
    for (size_t i = 0; i < sizeof hf_vision_families / sizeof hf_vision_families[0]; i++) {
        const hf_vision_family *f = &hf_vision_families[i];
        if (type != NULL ? strcmp(type, f->model_type) == 0
                         : parent != NULL && strcmp(parent, f->parent) == 0)
            return f;
    }
    return NULL;
}

/* Adds a note to the model's warning ("; "-separated). */
static void hf_warn(hws_model_spec *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hf_warn(hws_model_spec *m, const char *fmt, ...) {
    size_t len = strlen(m->warning);
    if (len > 0 && len + 2 < sizeof m->warning)
        len += (size_t)snprintf(m->warning + len, sizeof m->warning - len, "; ");
    va_list ap;
    va_start(ap, fmt);
    if (len < sizeof m->warning)
        vsnprintf(m->warning + len, sizeof m->warning - len, fmt, ap);
    va_end(ap);
}

/* One vision keyed count: the config's, else `fallback`. */
static hws_status hf_vision_count(const hf_doc *v, const char *key, double fallback, double *out) {
    *out = fallback;
    return hws_hf_count(v, (const char *[]){key, NULL}, 1, out);
}

/* The multimodal projector from vision width vh into text width th: LLaVA's two-layer MLP
 * (linear_1 over the concatenated feature layers, linear_2, with biases), Gemma 3's
 * mm_input_projection with its soft-embedding RMSNorm, Llama 4's bias-free linear_1 from
 * vision_output_dim. NA for a model type not known here. */
static hws_status hf_projector(const hf_doc *d, const hf_doc *v, const char *root_type, double vh,
                               double th, double *out) {
    hws_status st;
    *out = HWS_NA;
    if (root_type == NULL)
        return HWS_OK;
    if (strcmp(root_type, "llava") == 0 || strcmp(root_type, "llava_next") == 0) {
        const char *where;
        const cJSON *layers = hws_hf_get(d, "vision_feature_layer", &where);
        int bias = 1;
        if ((st = hws_hf_bool(d, "multimodal_projector_bias", &bias)) != HWS_OK)
            return st;
        double k = cJSON_IsArray(layers) && cJSON_GetArraySize(layers) > 0
                       ? cJSON_GetArraySize(layers)
                       : 1;
        *out = vh * k * th + th * th + (bias ? 2.0 * th : 0.0);
        if (strcmp(root_type, "llava_next") == 0)
            *out += th; /* image_newline */
    } else if (strcmp(root_type, "gemma3") == 0) {
        *out = vh * th + vh;
    } else if (strcmp(root_type, "llama4") == 0) {
        double out_dim;
        if ((st = hf_vision_count(v, "vision_output_dim", 7680, &out_dim)) != HWS_OK)
            return st;
        *out = out_dim * th;
    }
    return HWS_OK;
}

/* The vision tower of a vision-language config (vision_config), counted as the transformers
 * classes build it: L encoder layers (q, k, v, o with biases, two LayerNorms, fc1 and fc2 with
 * biases), the patch embedding (channels x patch^2 x hidden), one position per patch (+ the
 * class token's), the encoder's norms, SigLIP's attention-pooling head when vision_use_head,
 * Llama 4's pixel-shuffle adapter; then the projector into the text model. A tower or projector
 * of a kind not known here is estimated or left out, and the warning says which. */
hws_status hws_hf_vision(const hf_doc *d, const char *root_type, hws_model_spec *m) {
    const cJSON *vc = cJSON_GetObjectItemCaseSensitive(d->root, "vision_config");
    if (vc == NULL || cJSON_IsNull(vc))
        return HWS_OK;
    if (!cJSON_IsObject(vc))
        return hws_hf_bad(d, "", "vision_config", "expected an object");
    hf_doc v = {vc, vc, d->path, d->err};
    const char *type;
    hws_status st;
    if ((st = hws_hf_str(&v, "model_type", &type)) != HWS_OK)
        return st;
    const hf_vision_family *vf = hf_vision_family_find(type, root_type);
    double h, i, L, p, img, c;
    if ((st = hf_vision_count(&v, "hidden_size", vf ? vf->hidden : HWS_NA, &h)) ||
        (st = hf_vision_count(&v, "intermediate_size", vf ? vf->intermediate : HWS_NA, &i)) ||
        (st = hf_vision_count(&v, "num_hidden_layers", vf ? vf->layers : HWS_NA, &L)) ||
        (st = hf_vision_count(&v, "patch_size", vf ? vf->patch : HWS_NA, &p)) ||
        (st = hf_vision_count(&v, "image_size", vf ? vf->image : HWS_NA, &img)) ||
        (st = hf_vision_count(&v, "num_channels", 3, &c)))
        return st;
    const char *name = type != NULL ? type : (root_type != NULL ? root_type : "unnamed");
    if (!hws_known(h) || !hws_known(i) || !hws_known(L)) {
        hf_warn(m,
                "%s: the vision tower (%s) is left out of the plan, which is short by its size "
                "(CLIP-L 0.30B, SigLIP 0.42B, Llama 4's 0.87B parameters): its vision_config "
                "lacks hidden_size, intermediate_size or num_hidden_layers",
                d->path, name);
        return HWS_OK;
    }
    double layer = 4.0 * (h * h + h) + 4.0 * h + (h * i + i) + (i * h + h);
    double tower = L * layer + 2.0 * h; /* + the final LayerNorm */
    if (hws_known(p))
        tower += c * p * p * h + (vf != NULL && vf->patch_bias ? h : 0.0);
    if (hws_known(p) && hws_known(img)) {
        double patches = floor(img / p) * floor(img / p);
        tower += (patches + (vf != NULL && vf->class_token)) * h;
    }
    if (vf != NULL && vf->class_token)
        tower += h;
    if (vf != NULL && vf->pre_norm)
        tower += 2.0 * h;
    if (vf != NULL && strcmp(vf->model_type, "siglip_vision_model") == 0) {
        int head = 1;
        if ((st = hws_hf_bool(&v, "vision_use_head", &head)) != HWS_OK)
            return st;
        if (head) /* probe, in/out projections, LayerNorm, MLP */
            tower +=
                h + (3.0 * h * h + 3.0 * h) + (h * h + h) + 2.0 * h + (h * i + i) + (i * h + h);
    }
    if (vf != NULL && strcmp(vf->model_type, "llama4_vision_model") == 0) {
        double proj_in, proj_out;
        if ((st = hf_vision_count(&v, "projector_input_dim", 4096, &proj_in)) ||
            (st = hf_vision_count(&v, "projector_output_dim", 4096, &proj_out)))
            return st;
        tower += i * proj_in + proj_out * proj_out; /* vision_adapter: fc1, fc2 */
    }
    double projector;
    if ((st = hf_projector(d, &v, root_type, h, m->hidden_size, &projector)) != HWS_OK)
        return st;
    if (vf == NULL)
        hf_warn(m, "%s: vision tower '%s' counted as a plain ViT: %.3gB params, an estimate",
                d->path, name, tower / 1e9);
    if (!hws_known(projector))
        hf_warn(m, "%s: the %s projector from the vision tower is left out of the plan", d->path,
                root_type != NULL ? root_type : "model's");
    m->vision_params = tower + (hws_known(projector) ? projector : 0.0);
    return HWS_OK;
}
