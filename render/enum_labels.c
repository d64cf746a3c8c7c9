#include "render/enum_labels.h"

#include <string.h>

/* Protobuf enum name → its Chinese label, as web/labels.js names them for the console. */
static const struct label {
    const char *name;
    const char *zh;
} labels[] = {
    {"OUTFALL_TYPE_UNSPECIFIED", "未填写"},
    {"OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE", "工业企业排污口"},
    {"OUTFALL_TYPE_MINE", "矿山排污口"},
    {"OUTFALL_TYPE_TAILINGS", "尾矿库排污口"},
    {"OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE_STORM", "工业企业雨洪排口"},
    {"OUTFALL_TYPE_MINE_STORM", "矿山雨洪排口"},
    {"OUTFALL_TYPE_TAILINGS_STORM", "尾矿库雨洪排口"},
    {"OUTFALL_TYPE_PARK_WWTP", "园区污水处理厂排污口"},
    {"OUTFALL_TYPE_PARK_WWTP_STORM", "园区污水处理厂雨洪排口"},
    {"OUTFALL_TYPE_MUNICIPAL_WWTP", "城镇污水处理厂排污口"},
    {"OUTFALL_TYPE_LIVESTOCK_LARGE", "规模化畜禽养殖排污口"},
    {"OUTFALL_TYPE_AQUACULTURE_LARGE", "规模化水产养殖排污口"},
    {"OUTFALL_TYPE_IRRIGATION_DISTRICT", "大中型灌区排口"},
    {"OUTFALL_TYPE_PORT_TERMINAL", "港口码头排口"},
    {"OUTFALL_TYPE_LIVESTOCK_SMALL", "规模以下畜禽养殖排污口"},
    {"OUTFALL_TYPE_AQUACULTURE_SMALL", "规模以下水产养殖排污口"},
    {"OUTFALL_TYPE_URBAN_SEWAGE_SCATTERED", "城镇生活污水散排口"},
    {"OUTFALL_TYPE_RURAL_WWTP", "农村污水处理设施排污口"},
    {"OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED", "农村生活污水散排口"},
    {"OUTFALL_TYPE_URBAN_STORM", "城镇雨洪排口"},
    {"OUTFALL_TYPE_OTHER", "其他"},
    {"OUTFALL_TYPE_UNDETERMINED", "暂无法确定"},
    {"OUTFALL_TYPE_DITCH_CHANNEL", "沟渠/河港"},
    {"ENTRY_METHOD_UNSPECIFIED", "未填写"},
    {"ENTRY_METHOD_OPEN_CHANNEL", "明渠"},
    {"ENTRY_METHOD_PIPE", "管道"},
    {"ENTRY_METHOD_PUMP_STATION", "泵站"},
    {"ENTRY_METHOD_SLUICE", "涵闸"},
    {"ENTRY_METHOD_BOX_CULVERT", "箱涵"},
    {"ENTRY_METHOD_OTHER", "其他"},
    {"DISCHARGE_REGIME_UNSPECIFIED", "未填写"},
    {"DISCHARGE_REGIME_CONTINUOUS", "连续"},
    {"DISCHARGE_REGIME_INTERMITTENT", "间歇"},
    {"DISCHARGE_REGIME_NONE", "无排放"},
    {"SURVEY_LEVEL_UNSPECIFIED", "未填写"},
    {"SURVEY_LEVEL_REMOTE", "遥感/无人机"},
    {"SURVEY_LEVEL_WALK", "人工徒步"},
    {"SURVEY_LEVEL_EXPERT", "专家深度核查"},
    {"LIFECYCLE_STAGE_UNSPECIFIED", "未入台账"},
    {"LIFECYCLE_STAGE_FOUND", "排查"},
    {"LIFECYCLE_STAGE_TRACED", "溯源"},
    {"LIFECYCLE_STAGE_PLANNED", "一口一策"},
    {"LIFECYCLE_STAGE_REMEDIATED", "整治"},
    {"LIFECYCLE_STAGE_CLOSED", "销号"},
    {"LIFECYCLE_STAGE_RETAINED", "保留"},
    {"PARTY_BASIS_UNSPECIFIED", "未认定"},
    {"PARTY_BASIS_APPLICANT", "设置申请单位"},
    {"PARTY_BASIS_TRACED", "溯源认定"},
    {"PARTY_BASIS_COUNTY_GOVERNMENT", "溯源未果，由县级人民政府负责"},
    {"PARTY_BASIS_DESIGNATED", "溯源未果，由县级人民政府指定"},
    {"REMEDIATION_MEASURE_UNSPECIFIED", "未定"},
    {"REMEDIATION_MEASURE_BAN", "取缔"},
    {"REMEDIATION_MEASURE_MERGE", "合并"},
    {"REMEDIATION_MEASURE_REGULARIZE", "规范"},
    {"REMEDIATION_MEASURE_NONE", "无需整治"},
};

const char *enum_label(const char *enum_name) {
    for (size_t i = 0; enum_name && i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i].name, enum_name) == 0) return labels[i].zh;
    return NULL;
}
