// Human names for the contract's enums, fields, flags, divisions and rivers, per language.
// Enum lists are in number order (index = the enum's number), so a value sent as a number
// or as a name maps to the same label.

export const ENUMS = {
  type: [
    'OUTFALL_TYPE_UNSPECIFIED', 'OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE', 'OUTFALL_TYPE_MINE',
    'OUTFALL_TYPE_TAILINGS', 'OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE_STORM', 'OUTFALL_TYPE_MINE_STORM',
    'OUTFALL_TYPE_TAILINGS_STORM', 'OUTFALL_TYPE_PARK_WWTP', 'OUTFALL_TYPE_PARK_WWTP_STORM',
    'OUTFALL_TYPE_MUNICIPAL_WWTP', 'OUTFALL_TYPE_LIVESTOCK_LARGE', 'OUTFALL_TYPE_AQUACULTURE_LARGE',
    'OUTFALL_TYPE_IRRIGATION_DISTRICT', 'OUTFALL_TYPE_PORT_TERMINAL', 'OUTFALL_TYPE_LIVESTOCK_SMALL',
    'OUTFALL_TYPE_AQUACULTURE_SMALL', 'OUTFALL_TYPE_URBAN_SEWAGE_SCATTERED', 'OUTFALL_TYPE_RURAL_WWTP',
    'OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED', 'OUTFALL_TYPE_URBAN_STORM', 'OUTFALL_TYPE_OTHER',
    'OUTFALL_TYPE_UNDETERMINED', 'OUTFALL_TYPE_DITCH_CHANNEL',
  ],
  entry_method: [
    'ENTRY_METHOD_UNSPECIFIED', 'ENTRY_METHOD_OPEN_CHANNEL', 'ENTRY_METHOD_PIPE',
    'ENTRY_METHOD_PUMP_STATION', 'ENTRY_METHOD_SLUICE', 'ENTRY_METHOD_BOX_CULVERT', 'ENTRY_METHOD_OTHER',
  ],
  discharge_regime: [
    'DISCHARGE_REGIME_UNSPECIFIED', 'DISCHARGE_REGIME_CONTINUOUS', 'DISCHARGE_REGIME_INTERMITTENT',
    'DISCHARGE_REGIME_NONE',
  ],
  review_state: [
    'REVIEW_STATE_UNSPECIFIED', 'REVIEW_STATE_PENDING', 'REVIEW_STATE_APPROVED',
    'REVIEW_STATE_REJECTED', 'REVIEW_STATE_RETURNED',
  ],
  survey_level: [
    'SURVEY_LEVEL_UNSPECIFIED', 'SURVEY_LEVEL_REMOTE', 'SURVEY_LEVEL_WALK', 'SURVEY_LEVEL_EXPERT',
  ],
  photo_kind: [
    'PHOTO_KIND_UNSPECIFIED', 'PHOTO_KIND_NEAR', 'PHOTO_KIND_FAR', 'PHOTO_KIND_SIGNBOARD',
    'PHOTO_KIND_SURROUNDINGS', 'PHOTO_KIND_SAMPLING_POINT', 'PHOTO_KIND_SAMPLE',
    'PHOTO_KIND_RAPID_TEST', 'PHOTO_KIND_TRACE_NODE', 'PHOTO_KIND_RESPONSIBLE_UNIT',
    'PHOTO_KIND_REMEDIATION_DONE',
  ],
  role: ['ROLE_UNSPECIFIED', 'ROLE_SURVEYOR', 'ROLE_SUPERVISOR', 'ROLE_INTEGRATOR', 'ROLE_ADMIN'],
  item_kind: [
    'REVIEW_ITEM_KIND_UNSPECIFIED', 'REVIEW_ITEM_KIND_PENDING', 'REVIEW_ITEM_KIND_CONFLICT',
    'REVIEW_ITEM_KIND_DUPLICATE', 'REVIEW_ITEM_KIND_FLAGGED', 'REVIEW_ITEM_KIND_RESUBMITTED',
  ],
};

// Fields whose values are enums, by their snake_case name (the contract's field paths).
export const ENUM_FIELDS = {
  type: 'type', entry_method: 'entry_method', discharge_regime: 'discharge_regime',
  review_state: 'review_state', survey_level: 'survey_level',
};
export const NUMBER_FIELDS = new Set([
  'lat', 'lon', 'accuracy_m', 'cod_mg_l', 'nh3n_mg_l', 'tp_mg_l', 'tn_mg_l', 'ph', 'flow_m3_s',
  'version', 'approved_version', 'latest_version', 'observed_at_ms',
]);
export const BOOL_FIELDS = new Set(['flowing', 'oil_film']);

// Divisions of the city (GB/T 2260) and its main rivers, as the server's seed data holds them.
export const DIVISIONS = [
  '410802', '410803', '410804', '410811', '410821', '410822', '410823', '410825', '410882',
  '410883', '410890',
];
export const CITY_DIVISION = '410800';
export const RIVERS = [
  'huanghe', 'qinhe', 'manghe', 'xinmanghe', 'danhe', 'jihe', 'tanqulaohe', 'weihe', 'gongchanzhuyiqu',
];

const zh = {
  OUTFALL_TYPE_UNSPECIFIED: '未填写', OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE: '工业企业排污口',
  OUTFALL_TYPE_MINE: '矿山排污口', OUTFALL_TYPE_TAILINGS: '尾矿库排污口',
  OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE_STORM: '工业企业雨洪排口', OUTFALL_TYPE_MINE_STORM: '矿山雨洪排口',
  OUTFALL_TYPE_TAILINGS_STORM: '尾矿库雨洪排口', OUTFALL_TYPE_PARK_WWTP: '园区污水处理厂排污口',
  OUTFALL_TYPE_PARK_WWTP_STORM: '园区污水处理厂雨洪排口', OUTFALL_TYPE_MUNICIPAL_WWTP: '城镇污水处理厂排污口',
  OUTFALL_TYPE_LIVESTOCK_LARGE: '规模化畜禽养殖排污口', OUTFALL_TYPE_AQUACULTURE_LARGE: '规模化水产养殖排污口',
  OUTFALL_TYPE_IRRIGATION_DISTRICT: '大中型灌区排口', OUTFALL_TYPE_PORT_TERMINAL: '港口码头排口',
  OUTFALL_TYPE_LIVESTOCK_SMALL: '规模以下畜禽养殖排污口', OUTFALL_TYPE_AQUACULTURE_SMALL: '规模以下水产养殖排污口',
  OUTFALL_TYPE_URBAN_SEWAGE_SCATTERED: '城镇生活污水散排口', OUTFALL_TYPE_RURAL_WWTP: '农村污水处理设施排污口',
  OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED: '农村生活污水散排口', OUTFALL_TYPE_URBAN_STORM: '城镇雨洪排口',
  OUTFALL_TYPE_OTHER: '其他', OUTFALL_TYPE_UNDETERMINED: '暂无法确定', OUTFALL_TYPE_DITCH_CHANNEL: '沟渠/河港',
  ENTRY_METHOD_UNSPECIFIED: '未填写', ENTRY_METHOD_OPEN_CHANNEL: '明渠', ENTRY_METHOD_PIPE: '管道',
  ENTRY_METHOD_PUMP_STATION: '泵站', ENTRY_METHOD_SLUICE: '涵闸', ENTRY_METHOD_BOX_CULVERT: '箱涵',
  ENTRY_METHOD_OTHER: '其他',
  DISCHARGE_REGIME_UNSPECIFIED: '未填写', DISCHARGE_REGIME_CONTINUOUS: '连续',
  DISCHARGE_REGIME_INTERMITTENT: '间歇', DISCHARGE_REGIME_NONE: '无排放',
  REVIEW_STATE_UNSPECIFIED: '未知', REVIEW_STATE_PENDING: '待审核', REVIEW_STATE_APPROVED: '已批准',
  REVIEW_STATE_REJECTED: '已驳回', REVIEW_STATE_RETURNED: '已退回',
  SURVEY_LEVEL_UNSPECIFIED: '未填写', SURVEY_LEVEL_REMOTE: '遥感/无人机', SURVEY_LEVEL_WALK: '人工徒步',
  SURVEY_LEVEL_EXPERT: '专家深度核查',
  PHOTO_KIND_UNSPECIFIED: '照片', PHOTO_KIND_NEAR: '近景', PHOTO_KIND_FAR: '远景',
  PHOTO_KIND_SIGNBOARD: '标志牌', PHOTO_KIND_SURROUNDINGS: '周边环境', PHOTO_KIND_SAMPLING_POINT: '采样点',
  PHOTO_KIND_SAMPLE: '水样', PHOTO_KIND_RAPID_TEST: '快检结果', PHOTO_KIND_TRACE_NODE: '溯源节点',
  PHOTO_KIND_RESPONSIBLE_UNIT: '责任主体', PHOTO_KIND_REMEDIATION_DONE: '整治完成',
  ROLE_UNSPECIFIED: '未知', ROLE_SURVEYOR: '排查人员', ROLE_SUPERVISOR: '审核人员',
  ROLE_INTEGRATOR: '对接系统', ROLE_ADMIN: '管理员',
  REVIEW_ITEM_KIND_UNSPECIFIED: '全部', REVIEW_ITEM_KIND_PENDING: '待审核',
  REVIEW_ITEM_KIND_CONFLICT: '字段冲突', REVIEW_ITEM_KIND_DUPLICATE: '疑似重复',
  REVIEW_ITEM_KIND_FLAGGED: '有标记', REVIEW_ITEM_KIND_RESUBMITTED: '退回后重新提交',
  // fields
  'f.id': '记录编号', 'f.name': '名称', 'f.code': '排口编码', 'f.type': '排口类型',
  'f.river_code': '受纳河流', 'f.division_code': '行政区', 'f.lat': '纬度', 'f.lon': '经度',
  'f.accuracy_m': '定位精度', 'f.entry_method': '入河方式', 'f.discharge_regime': '排放规律',
  'f.landmark': '位置描述', 'f.responsible_party': '责任主体', 'f.responsible_party.name': '责任主体名称',
  'f.responsible_party.credit_code': '统一社会信用代码', 'f.responsible_party.contact': '联系人',
  'f.responsible_party.phone': '联系电话', 'f.responsible_party.permit_number': '排污许可证编号',
  'f.responsible_party.address': '地址', 'f.review_state': '审核状态', 'f.merged_into': '已合并至',
  'f.flags': '标记', 'f.national_code': '国家平台编码', 'f.survey_level': '排查级别',
  'f.version': '版本', 'f.approved_version': '已批准版本', 'f.latest_version': '最新版本',
  'f.observed_at_ms': '观测时间', 'f.flowing': '正在排放', 'f.colour': '颜色', 'f.odour': '气味',
  'f.notes': '备注', 'f.turbidity': '浊度', 'f.oil_film': '油膜', 'f.cod_mg_l': '化学需氧量 COD (mg/L)',
  'f.nh3n_mg_l': '氨氮 (mg/L)', 'f.tp_mg_l': '总磷 (mg/L)', 'f.tn_mg_l': '总氮 (mg/L)', 'f.ph': 'pH',
  'f.flow_m3_s': '流量 (m³/s)', 'f.photos': '照片', 'f.outfall_id': '所属排口',
  // flags
  'flag.duplicate_suspect': '疑似重复', 'flag.photos_pending': '照片未上传',
  'flag.photo_no_geotag': '照片无定位信息', 'flag.photo_far_from_site': '照片拍摄点远离排口',
  'flag.photo_time_mismatch': '照片拍摄时间不符', 'flag.outside_city_bounds': '位置超出市域范围',
  // divisions and rivers
  'div.410800': '焦作市', 'div.410802': '解放区', 'div.410803': '中站区', 'div.410804': '马村区',
  'div.410811': '山阳区', 'div.410821': '修武县', 'div.410822': '博爱县', 'div.410823': '武陟县',
  'div.410825': '温县', 'div.410882': '沁阳市', 'div.410883': '孟州市', 'div.410890': '城乡一体化示范区',
  'river.huanghe': '黄河', 'river.qinhe': '沁河', 'river.manghe': '蟒河', 'river.xinmanghe': '新蟒河',
  'river.danhe': '丹河', 'river.jihe': '济河', 'river.tanqulaohe': '滩区涝河', 'river.weihe': '卫河',
  'river.gongchanzhuyiqu': '共产主义渠',
};

const en = {
  OUTFALL_TYPE_UNSPECIFIED: 'Not given', OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE: 'Industrial enterprise outfall',
  OUTFALL_TYPE_MINE: 'Mine outfall', OUTFALL_TYPE_TAILINGS: 'Tailings pond outfall',
  OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE_STORM: 'Industrial enterprise storm outfall',
  OUTFALL_TYPE_MINE_STORM: 'Mine storm outfall', OUTFALL_TYPE_TAILINGS_STORM: 'Tailings pond storm outfall',
  OUTFALL_TYPE_PARK_WWTP: 'Industrial park treatment plant outfall',
  OUTFALL_TYPE_PARK_WWTP_STORM: 'Industrial park treatment plant storm outfall',
  OUTFALL_TYPE_MUNICIPAL_WWTP: 'Municipal treatment plant outfall',
  OUTFALL_TYPE_LIVESTOCK_LARGE: 'Large livestock farm outfall',
  OUTFALL_TYPE_AQUACULTURE_LARGE: 'Large aquaculture outfall',
  OUTFALL_TYPE_IRRIGATION_DISTRICT: 'Irrigation district outfall', OUTFALL_TYPE_PORT_TERMINAL: 'Port or terminal outfall',
  OUTFALL_TYPE_LIVESTOCK_SMALL: 'Small livestock farm outfall', OUTFALL_TYPE_AQUACULTURE_SMALL: 'Small aquaculture outfall',
  OUTFALL_TYPE_URBAN_SEWAGE_SCATTERED: 'Scattered urban sewage outfall',
  OUTFALL_TYPE_RURAL_WWTP: 'Rural treatment facility outfall',
  OUTFALL_TYPE_RURAL_SEWAGE_SCATTERED: 'Scattered rural sewage outfall',
  OUTFALL_TYPE_URBAN_STORM: 'Urban storm-water outfall', OUTFALL_TYPE_OTHER: 'Other',
  OUTFALL_TYPE_UNDETERMINED: 'Not yet determined', OUTFALL_TYPE_DITCH_CHANNEL: 'Ditch or channel',
  ENTRY_METHOD_UNSPECIFIED: 'Not given', ENTRY_METHOD_OPEN_CHANNEL: 'Open channel', ENTRY_METHOD_PIPE: 'Pipe',
  ENTRY_METHOD_PUMP_STATION: 'Pump station', ENTRY_METHOD_SLUICE: 'Sluice', ENTRY_METHOD_BOX_CULVERT: 'Box culvert',
  ENTRY_METHOD_OTHER: 'Other',
  DISCHARGE_REGIME_UNSPECIFIED: 'Not given', DISCHARGE_REGIME_CONTINUOUS: 'Continuous',
  DISCHARGE_REGIME_INTERMITTENT: 'Intermittent', DISCHARGE_REGIME_NONE: 'Not discharging',
  REVIEW_STATE_UNSPECIFIED: 'Unknown', REVIEW_STATE_PENDING: 'Pending', REVIEW_STATE_APPROVED: 'Approved',
  REVIEW_STATE_REJECTED: 'Rejected', REVIEW_STATE_RETURNED: 'Returned',
  SURVEY_LEVEL_UNSPECIFIED: 'Not given', SURVEY_LEVEL_REMOTE: 'Remote sensing / drone',
  SURVEY_LEVEL_WALK: 'Walk-through', SURVEY_LEVEL_EXPERT: 'Expert check',
  PHOTO_KIND_UNSPECIFIED: 'Photo', PHOTO_KIND_NEAR: 'Near', PHOTO_KIND_FAR: 'Far',
  PHOTO_KIND_SIGNBOARD: 'Signboard', PHOTO_KIND_SURROUNDINGS: 'Surroundings',
  PHOTO_KIND_SAMPLING_POINT: 'Sampling point', PHOTO_KIND_SAMPLE: 'Sample',
  PHOTO_KIND_RAPID_TEST: 'Rapid test', PHOTO_KIND_TRACE_NODE: 'Trace node',
  PHOTO_KIND_RESPONSIBLE_UNIT: 'Responsible unit', PHOTO_KIND_REMEDIATION_DONE: 'Remediation done',
  ROLE_UNSPECIFIED: 'Unknown', ROLE_SURVEYOR: 'Surveyor', ROLE_SUPERVISOR: 'Supervisor',
  ROLE_INTEGRATOR: 'Integrator', ROLE_ADMIN: 'Administrator',
  REVIEW_ITEM_KIND_UNSPECIFIED: 'All', REVIEW_ITEM_KIND_PENDING: 'Pending',
  REVIEW_ITEM_KIND_CONFLICT: 'Conflict', REVIEW_ITEM_KIND_DUPLICATE: 'Duplicate suspect',
  REVIEW_ITEM_KIND_FLAGGED: 'Flagged', REVIEW_ITEM_KIND_RESUBMITTED: 'Resubmitted',
  'f.id': 'Record id', 'f.name': 'Name', 'f.code': 'Outfall code', 'f.type': 'Type',
  'f.river_code': 'Receiving river', 'f.division_code': 'Division', 'f.lat': 'Latitude',
  'f.lon': 'Longitude', 'f.accuracy_m': 'Accuracy', 'f.entry_method': 'Entry method',
  'f.discharge_regime': 'Discharge regime', 'f.landmark': 'Landmark',
  'f.responsible_party': 'Responsible party', 'f.responsible_party.name': 'Responsible party',
  'f.responsible_party.credit_code': 'Social credit code', 'f.responsible_party.contact': 'Contact',
  'f.responsible_party.phone': 'Phone', 'f.responsible_party.permit_number': 'Permit number',
  'f.responsible_party.address': 'Address', 'f.review_state': 'Review state',
  'f.merged_into': 'Merged into', 'f.flags': 'Flags', 'f.national_code': 'National code',
  'f.survey_level': 'Survey level', 'f.version': 'Version', 'f.approved_version': 'Approved version',
  'f.latest_version': 'Latest version', 'f.observed_at_ms': 'Observed at', 'f.flowing': 'Flowing',
  'f.colour': 'Colour', 'f.odour': 'Odour', 'f.notes': 'Notes', 'f.turbidity': 'Turbidity',
  'f.oil_film': 'Oil film', 'f.cod_mg_l': 'COD (mg/L)', 'f.nh3n_mg_l': 'NH3-N (mg/L)',
  'f.tp_mg_l': 'TP (mg/L)', 'f.tn_mg_l': 'TN (mg/L)', 'f.ph': 'pH', 'f.flow_m3_s': 'Flow (m³/s)',
  'f.photos': 'Photos', 'f.outfall_id': 'Outfall',
  'flag.duplicate_suspect': 'Possible duplicate', 'flag.photos_pending': 'Photos not uploaded',
  'flag.photo_no_geotag': 'Photo without position', 'flag.photo_far_from_site': 'Photo taken far from the site',
  'flag.photo_time_mismatch': 'Photo time does not match', 'flag.outside_city_bounds': 'Outside the city',
  'div.410800': 'Jiaozuo (city-wide)', 'div.410802': 'Jiefang District', 'div.410803': 'Zhongzhan District',
  'div.410804': 'Macun District', 'div.410811': 'Shanyang District', 'div.410821': 'Xiuwu County',
  'div.410822': "Bo'ai County", 'div.410823': 'Wuzhi County', 'div.410825': 'Wen County',
  'div.410882': 'Qinyang City', 'div.410883': 'Mengzhou City',
  'div.410890': 'Urban-Rural Integration Zone',
  'river.huanghe': 'Yellow River', 'river.qinhe': 'Qin River', 'river.manghe': 'Mang River',
  'river.xinmanghe': 'New Mang River', 'river.danhe': 'Dan River', 'river.jihe': 'Ji River',
  'river.tanqulaohe': 'Tanqu Drainage River', 'river.weihe': 'Wei River',
  'river.gongchanzhuyiqu': 'Gongchanzhuyi Canal',
};

export const LABELS = { zh, en };
