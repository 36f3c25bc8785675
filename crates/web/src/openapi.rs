//! The OpenAPI document for `/api/v1`, served at `/api/openapi.json`.

use serde_json::{json, Value};

/// (method, path, summary, tag, needs sign-in)
pub const OPERATIONS: &[(&str, &str, &str, &str)] = &[
    (
        "post",
        "/api/v1/session",
        "登录（JSON），返回用户信息和CSRF令牌",
        "会话",
    ),
    ("delete", "/api/v1/session", "退出登录", "会话"),
    ("get", "/api/v1/me", "当前用户和CSRF令牌", "会话"),
    (
        "get",
        "/api/v1/codes",
        "数据字典：各类状态、类别代码及其中文名称",
        "会话",
    ),
    (
        "get",
        "/api/v1/dashboard",
        "工作台统计（管辖范围内）",
        "工作台",
    ),
    (
        "get",
        "/api/v1/todo",
        "待我办理：等待当前用户办理的案件及其办理时限",
        "工作台",
    ),
    (
        "get",
        "/api/v1/divisions",
        "区划：顶层、某区划的下级（parent）或搜索（q）",
        "行政区划",
    ),
    ("get", "/api/v1/divisions/stats", "各级区划数量", "行政区划"),
    ("get", "/api/v1/divisions/{code}", "一个区划", "行政区划"),
    (
        "get",
        "/api/v1/divisions/{code}/children",
        "某区划的直接下级",
        "行政区划",
    ),
    (
        "get",
        "/api/v1/offices",
        "民政办公室列表（within, q, limit, offset）",
        "民政办公室",
    ),
    (
        "get",
        "/api/v1/offices/{code}",
        "一个民政办公室",
        "民政办公室",
    ),
    (
        "patch",
        "/api/v1/offices/{code}",
        "修改联系电话和办公地址（只改请求中给出的字段）",
        "民政办公室",
    ),
    ("get", "/api/v1/users", "用户列表（市民政局管理员）", "用户"),
    (
        "post",
        "/api/v1/users",
        "新建用户（市民政局管理员）",
        "用户",
    ),
    ("get", "/api/v1/users/{id}", "一个用户", "用户"),
    (
        "patch",
        "/api/v1/users/{id}",
        "修改用户：姓名、停用、重置密码、解除锁定",
        "用户",
    ),
    (
        "get",
        "/api/v1/audit",
        "操作日志（市民政局管理员、审计人员）：按操作人、操作、对象、北京时间日期范围筛选，附符合条件的总数",
        "操作日志",
    ),
    (
        "get",
        "/api/v1/audit/export",
        "按同样的筛选条件导出操作日志（操作日志.xlsx，最多5000条；身份证号码按角色遮蔽；导出本身记入日志）",
        "操作日志",
    ),
    (
        "get",
        "/api/v1/households",
        "家庭户列表（q 姓名/拼音/身份证号/后四位/后四位+姓名, village, registration_type, status, limit, offset；有q时按匹配成员排列，total只数到本页末尾，total_capped表示还有更多）",
        "户籍台账",
    ),
    ("post", "/api/v1/households", "新增家庭户（含户主）", "户籍台账"),
    (
        "get",
        "/api/v1/households/{household_id}",
        "一户：成员、收入、财产",
        "户籍台账",
    ),
    (
        "patch",
        "/api/v1/households/{household_id}",
        "修改户信息",
        "户籍台账",
    ),
    (
        "get",
        "/api/v1/households/{household_id}/history",
        "一户的变更记录",
        "户籍台账",
    ),
    (
        "post",
        "/api/v1/households/{household_id}/members",
        "添加成员（已登记的人员迁入本户）",
        "户籍台账",
    ),
    (
        "post",
        "/api/v1/households/{household_id}/incomes",
        "登记收入（金额单位元）",
        "户籍台账",
    ),
    (
        "post",
        "/api/v1/households/{household_id}/assets",
        "登记财产（价值单位元）",
        "户籍台账",
    ),
    (
        "patch",
        "/api/v1/households/{household_id}/members/{person_id}",
        "修改成员情况（健康状况、劳动能力、就业、残疾、是否计入家庭人口、人员状态；只改给出的字段），reason 修改原因必填；姓名、身份证号、与户主关系不变。amount_changes 列出测算金额因此改变的保障对象",
        "户籍台账",
    ),
    (
        "delete",
        "/api/v1/households/{household_id}/members/{person_id}",
        "删除误登记的成员（?reason= 删除原因必填）；户主、有救助案件、保障、发放或迁移记录的成员不能删除（409，请改人员状态为迁出或死亡）",
        "户籍台账",
    ),
    (
        "patch",
        "/api/v1/households/{household_id}/incomes/{income_id}",
        "修改一项收入（只改给出的字段），reason 修改原因必填",
        "户籍台账",
    ),
    (
        "delete",
        "/api/v1/households/{household_id}/incomes/{income_id}",
        "删除一项收入（?reason= 删除原因必填）",
        "户籍台账",
    ),
    (
        "patch",
        "/api/v1/households/{household_id}/assets/{asset_id}",
        "修改一项财产（只改给出的字段），reason 修改原因必填",
        "户籍台账",
    ),
    (
        "delete",
        "/api/v1/households/{household_id}/assets/{asset_id}",
        "删除一项财产（?reason= 删除原因必填）",
        "户籍台账",
    ),
    (
        "get",
        "/api/v1/persons",
        "查找人员（q：姓名的一部分、拼音、身份证号、后四位、后四位+姓名；limit 1–200）",
        "户籍台账",
    ),
    (
        "patch",
        "/api/v1/persons/{person_id}",
        "修改成员信息",
        "户籍台账",
    ),
    (
        "post",
        "/api/v1/imports/households",
        "导入台账（multipart：file, valid_only, dry_run）；超过1万行时返回202和任务号",
        "户籍台账",
    ),
    ("get", "/api/v1/jobs", "最近的导入任务（本人发起的，及管辖范围内命令行发起的）", "户籍台账"),
    ("get", "/api/v1/jobs/{job_id}", "导入任务进度和结果", "户籍台账"),
    (
        "get",
        "/api/v1/standards/rules",
        "规范化建设要求（规则清单：编号、条文、方案条款）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/offices",
        "各民政办公室规范化建设情况（within, status）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/offices/{code}",
        "一个民政办公室的规范化建设情况与逐条评估",
        "规范化建设",
    ),
    (
        "patch",
        "/api/v1/standards/offices/{code}/profile",
        "修改基本情况（人口、类型、联系人、宣传栏等；只改请求中给出的字段，null表示清空）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/rooms",
        "登记用房（面积按平方米，最多两位小数）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/equipment",
        "登记设备",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/posted-rules",
        "登记上墙公示的制度、流程",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/investments",
        "登记建设投入",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/plan",
        "报送建设方案",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/plan/review",
        "审核建设方案（accept / return，市民政局）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/staff-changes",
        "报备人员异动",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/offices/{code}/inspections",
        "组织检查验收（市民政局）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/staff-changes",
        "待审批的人员异动",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/staff-changes/{id}/decision",
        "审批人员异动（approve / reject，市民政局）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/inspections/{id}",
        "一次检查验收及评分表",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/inspections/{id}/scores",
        "检查评分（市民政局）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/inspections/{id}/rectifications",
        "添加整改事项（市民政局）",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/inspections/{id}/decision",
        "验收结论（pass / fail，市民政局）",
        "规范化建设",
    ),
    (
        "get",
        "/api/v1/standards/subsidies",
        "补助资金台账",
        "规范化建设",
    ),
    (
        "post",
        "/api/v1/standards/subsidies/{id}/disbursement",
        "拨付补助（市民政局）",
        "规范化建设",
    ),    (
        "get",
        "/api/v1/cases",
        "救助案件列表（state 可为 open 或状态代码, program, kind, q 姓名/案件编号, origin 来源 system/clerk/no_system_drafts, limit, offset）",
        "救助案件",
    ),
    (
        "post",
        "/api/v1/cases",
        "登记救助申请（household_id, person_id, program, reason, details, submit）",
        "救助案件",
    ),
    (
        "get",
        "/api/v1/cases/due",
        "临近或超过办理时限的案件（按角色）",
        "救助案件",
    ),
    (
        "post",
        "/api/v1/cases/tasks",
        "运行动态管理任务：拟定高龄津贴、到期核查立案（民政办主任）",
        "救助案件",
    ),
    (
        "get",
        "/api/v1/cases/{id}",
        "一个案件：办理过程、时限、入户调查、异议、测算、保障信息、可办理事项",
        "救助案件",
    ),
    (
        "post",
        "/api/v1/cases/{id}/actions",
        "办理案件：action（accept、start_investigation、approve 等）加该动作的字段，可附 note、findings、grace；金额与测算不一致时附 amount_reason，县级确认远高于测算的金额时附 amount_confirmed",
        "救助案件",
    ),
    (
        "get",
        "/api/v1/cases/{id}/calculation",
        "按今天的参数和户籍信息测算金额（含计算过程）",
        "救助案件",
    ),
    (
        "put",
        "/api/v1/cases/{id}/details",
        "保存测算所需的申请信息（整体替换）",
        "救助案件",
    ),
    (
        "post",
        "/api/v1/cases/{id}/attachments",
        "上传案件材料照片或扫描件（multipart：file，JPEG/PNG）",
        "救助案件",
    ),
    (
        "post",
        "/api/v1/enrolments/{id}/change",
        "对保障对象提出变更（增发/减发/停发）：reason；返回新立的变更案件",
        "救助案件",
    ),
    (
        "get",
        "/api/v1/notices",
        "公示记录（管辖范围内）",
        "公示",
    ),
    (
        "post",
        "/api/v1/notices",
        "发布公示：division_code（村或乡镇）, case_ids",
        "公示",
    ),
    (
        "get",
        "/api/v1/notices/{id}",
        "一次公示的名单",
        "公示",
    ),
    (
        "get",
        "/api/v1/enrolments",
        "保障对象（status, program, q, limit, offset）",
        "保障对象",
    ),
    (
        "get",
        "/api/v1/params",
        "救助参数（program）",
        "救助参数",
    ),
    (
        "post",
        "/api/v1/params",
        "添加参数值（市民政局管理员）：program, name, region, urban_rural, effective_from, value_json, source；影响金额的参数（标准、比例、分档等）随即生成该地区自执行月份（生效日期为1日的当月，否则次月）起的调整标准批次，返回 id、repricing_month、repricing（生成结果）或 repricing_error（未能生成的原因，参数照常添加）",
        "救助参数",
    ),
    (
        "post",
        "/api/v1/params/whatif",
        "调标测算（市民政局管理员）：scenarios 为1至3个方案，每个方案 name 和 changes（1至10项参数调整：program, name, region, urban_rural, effective_from, value_json），within 可选区划；按方案生效当月的参数逐人计算真实保障对象的新金额，返回各方案金额变化、新增符合条件（登记了收入、尚未享受低保的家庭）和退出的户数人数，按区县、乡镇（街道）和项目的月增支、年增支，以及每人月金额变化的分布；不写入任何数据",
        "救助参数",
    ),
    (
        "post",
        "/api/v1/params/whatif.xlsx",
        "调标测算结果导出（调标测算.xlsx）：请求同 /api/v1/params/whatif；不写入任何数据",
        "救助参数",
    ),
    (
        "post",
        "/api/v1/params/whatif/adopt",
        "采用测算方案（市民政局管理员）：请求为一个方案（name, changes）；逐项添加参数（记入操作日志），再按各项目自执行月份起生成调整标准批次，返回 ids（参数编号）、month、added（列入的对象数）、prepared、errors；201",
        "救助参数",
    ),
    ("get", "/api/v1/payroll/batches", "发放批次列表（month, program, status, within）", "资金发放"),
    ("post", "/api/v1/payroll/batches", "生成某月发放批次（month, program, within；幂等：已有批次原样返回）", "资金发放"),
    ("get", "/api/v1/payroll/batches/{id}", "一个发放批次", "资金发放"),
    ("get", "/api/v1/payroll/batches/{id}/lines", "批次明细（status, kind, missing_account=true 只列缺少银行账号的, limit, offset）", "资金发放"),
    ("get", "/api/v1/payroll/batches/{id}/diff", "环比变动：新增、停发、金额变动及原因", "资金发放"),
    ("post", "/api/v1/payroll/batches/{id}/regenerate", "重新生成草稿批次", "资金发放"),
    ("post", "/api/v1/payroll/batches/{id}/sign-off", "审核签发（民政办主任）；可选 ?reviewed=批次的 generated_at（审核时所见版本），批次此后重新生成过则拒绝（409）", "资金发放"),
    ("post", "/api/v1/payroll/sign-off", "一次签发多个批次（本月审核签发）：batches 为 [{id, reviewed}]（reviewed 为审核时所见的 generated_at）；任一批次不能签发则全部不签发（409/404）", "资金发放"),
    ("post", "/api/v1/payroll/batches/{id}/close", "结束已对账的批次（民政办主任）", "资金发放"),
    ("post", "/api/v1/payroll/batches/{id}/bank-file", "生成银行代发文件（template），返回文件", "资金发放"),
    ("get", "/api/v1/payroll/batches/{id}/bank-files", "银行代发文件下载记录：下载时间、下载人、代发模板、文件名、笔数、金额（新的在前）", "资金发放"),
    ("get", "/api/v1/payroll/batches/{id}/returns", "银行回盘文件导入记录：文件名、SHA-256、笔数、成功和失败的笔数与金额、导入人、导入时间（新的在前）", "资金发放"),
    ("post", "/api/v1/payroll/batches/{id}/returns", "导入银行回盘文件（multipart，字段file），不能对账时整份拒绝", "资金发放"),
    ("get", "/api/v1/payroll/exceptions", "退票列表（status）", "资金发放"),
    ("post", "/api/v1/payroll/exceptions/{id}/correction", "更正退票（账号、开户行、户名），下一批次重发", "资金发放"),
    ("get", "/api/v1/payroll/back-pay", "补发列表", "资金发放"),
    ("post", "/api/v1/payroll/back-pay", "申请补发（enrolment_id, period, amount, reason）", "资金发放"),
    ("post", "/api/v1/payroll/back-pay/{id}/decision", "审批补发（approve 必填：true 批准，false 不批准；民政办主任）", "资金发放"),
    ("get", "/api/v1/payroll/ledger", "资金台账：按月份、项目、乡镇的应发、已发、失败、重发（from, to, program, within）", "资金发放"),
    ("get", "/api/v1/payroll/bank-templates", "银行代发模板", "资金发放"),
    ("post", "/api/v1/payroll/bank-templates", "新建或修改银行代发模板（市民政局管理员）", "资金发放"),
    ("get", "/api/v1/repricing", "调标批次列表（status：pending 待审核、applied 已签发、void 已作废），每个乡镇（街道）每月一批，含人数、原月发放额、新月发放额", "调标批次"),
    ("post", "/api/v1/repricing/age-bands", "生成高龄津贴年龄段调标批次（month：执行月份YYYY-MM，within：可选区划）；按该月有效的年龄段标准重新计算，已列入的不重复列入；有新列入时201", "调标批次"),
    ("post", "/api/v1/repricing/standard", "按调整后的标准生成调整标准批次（program：参数所属项目，低保标准同时影响单人保和特困供养；month：执行月份YYYY-MM；within：可选区划）：按执行月份有效的参数和户籍信息逐人重新计算，新参数使金额变化的对象按乡镇（街道）和项目列入；无法计算的列出原因、不调整；已列入的不重复列入；有新列入时201。添加参数（POST /api/v1/params）时自动生成", "调标批次"),
    ("get", "/api/v1/repricing/{id}", "一个调标批次及其明细：原金额、新金额、差额、计算过程", "调标批次"),
    ("post", "/api/v1/repricing/{id}/sign-off", "审核签发（民政办主任；县级审批项目的调整标准批次由县级民政部门审批人审核确认）：自执行月份起按新金额发放，逐人记录操作日志；金额将为0的不调整；执行月份起已按原金额签发发放的月份，差额列为已批准的调标补差（补发），随下一批次发放；已发金额高于新金额的，拒绝（409）", "调标批次"),
    ("post", "/api/v1/repricing/sign-off", "签发全部（ids：待审核调标批次的编号）：各批次按单个签发的规则审核签发，在一个事务中全部签发；任一批次不能签发（无权限、已处理、未到执行月份、已发金额高于新金额）时全部不签发，并说明是哪个批次", "调标批次"),
    ("post", "/api/v1/repricing/{id}/void", "作废（签发人）：不调整任何金额", "调标批次"),
    ("get", "/api/v1/funerals", "殡葬记录（死亡登记）列表（month 按死亡月份）", "殡葬管理"),
    ("post", "/api/v1/funerals", "登记死亡：停发本人待遇、重新生成未签发批次、开立追回（id_number, name, death_date, certificate_kind, certificate_no, disposal, cremation_no, funeral_home, township_code, death_place, note）", "殡葬管理"),
    ("post", "/api/v1/funerals/import", "导入殡仪馆或公安的死亡名单（multipart：file，source=funeral_home|police）；整份无误才导入", "殡葬管理"),
    ("get", "/api/v1/funerals/{id}", "一条殡葬记录及其追回款项", "殡葬管理"),
    ("get", "/api/v1/recoveries", "追回款项列表及合计（status）", "殡葬管理"),
    ("get", "/api/v1/checks", "数据比对：各比对项目的疑点数（待核实、属实、全部）", "数据比对"),
    ("post", "/api/v1/checks/run", "立即运行全部比对（管辖范围内）", "数据比对"),
    ("get", "/api/v1/findings", "疑点列表（kind, state, limit, offset）", "数据比对"),
    ("get", "/api/v1/findings/{id}", "一条疑点及其说明", "数据比对"),
    ("get", "/api/v1/relatives", "近亲属备案列表（管辖范围内）", "数据比对"),
    ("post", "/api/v1/relatives", "登记近亲属备案（declarant_name, declarant_id_number, post, username, division_code, relative_name, relative_id_number, relation, note）；该户正在办理的申请标为备案", "数据比对"),
    ("get", "/api/v1/lists", "其他部门的核对数据（批次）列表", "数据比对"),
    ("post", "/api/v1/lists/import", "导入核对数据（multipart：kind, received_on, file）；整份无误才导入，不修改户籍台账", "数据比对"),
    ("post", "/api/v1/findings/{id}/verdict", "核实结论（verdict: confirm 属实、dismiss 不属实、handle 已处理；note 核实情况）", "数据比对"),
    ("get", "/api/v1/stats/month", "统计月报（month：统计月份YYYY-MM，默认本月；scope：乡镇（街道）及以上区划代码，默认本人管辖范围）：城乡低保户数、人数、本月新增和停保、本月支出，特困（集中/分散供养、生活自理能力），临时救助、医疗救助、教育救助人次和金额，高龄津贴分年龄段，优抚，低保对象构成；合计及各下级区划（columns）的数值（金额单位分）；warnings 数据校验提示；已锁定的月份（locked）为锁定时的数据", "统计月报"),
    ("get", "/api/v1/stats/records", "统计明细：构成某个数字的保障对象、发放明细或家庭成员（month, scope, item：指标代码，如 urban_households）；最多500条，total 为总数", "统计月报"),
    ("post", "/api/v1/stats/lock", "锁定统计月份（市民政局管理员；month）：保存各乡镇（街道）的统计数字，此后报表不随台账变化；已锁定的409", "统计月报"),
    ("post", "/api/v1/stats/reopen", "重新打开已锁定的统计月份（市民政局管理员；month, reason 原因必填），记入操作日志；未锁定的409", "统计月报"),
    ("post", "/api/v1/recoveries/{id}/steps", "办理追回（action: recovered 登记已追回、request_write_off 申请核销、approve_write_off 批准核销、reject_write_off 驳回；note 说明）", "殡葬管理"),
];

/// Operations that change state without reading a body.
const NO_BODY: &[&str] = &[
    "/api/v1/cases/tasks",
    "/api/v1/checks/run",
    "/api/v1/payroll/batches/{id}/regenerate",
    "/api/v1/payroll/batches/{id}/sign-off",
    "/api/v1/payroll/batches/{id}/close",
];

/// The request body of an operation: JSON for changes, except file uploads (multipart)
/// and the operations in `NO_BODY`.
fn request_body(method: &str, path: &str) -> Option<Value> {
    if !matches!(method, "post" | "patch" | "put") || NO_BODY.contains(&path) {
        return None;
    }
    let file = json!({"type": "string", "format": "binary"});
    let multipart = |properties: Value| {
        let schema = json!({"type": "object", "properties": properties, "required": ["file"]});
        Some(json!({"required": true, "content": {"multipart/form-data": {"schema": schema}}}))
    };
    match path {
        "/api/v1/households/{household_id}/members/{person_id}" => json_body(json!({
            "type": "object",
            "properties": {
                "health": {"type": "string", "description": "健康状况（代码或中文）"},
                "work_capacity": {"type": "string", "description": "劳动能力（代码或中文）"},
                "employment": {"type": "string"},
                "disability_type": {"type": "string"},
                "disability_grade": {"type": "string"},
                "counted": {"type": "string", "description": "是否计入家庭人口：是/否"},
                "exclusion_reason": {"type": "string"},
                "status": {"type": "string", "description": "人员状态；不填则不变"},
                "status_date": {"type": "string"},
                "reason": {"type": "string", "description": "修改原因（必填，最长200个字）"}
            },
            "required": ["reason"]
        })),
        "/api/v1/households/{household_id}/incomes/{income_id}"
        | "/api/v1/households/{household_id}/assets/{asset_id}" => json_body(json!({
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "修改原因（必填，最长200个字）"}},
            "required": ["reason"]
        })),
        "/api/v1/payroll/batches/{id}/returns" => multipart(json!({
            "file": {"description": "银行回盘文件（CSV或Excel）", "type": "string", "format": "binary"}
        })),
        "/api/v1/cases/{id}/attachments" => multipart(json!({"file": file})),
        "/api/v1/funerals/import" => multipart(json!({
            "file": {"description": "死亡名单（CSV、xlsx或xls）", "type": "string", "format": "binary"},
            "source": {"type": "string", "enum": ["funeral_home", "police"], "description": "名单来源"}
        })),
        "/api/v1/imports/households" => multipart(json!({
            "file": file,
            "valid_only": {"type": "string", "description": "有此字段时只导入无误的行"},
            "dry_run": {"type": "string", "description": "有此字段时只校验，不写入"}
        })),
        "/api/v1/repricing/sign-off" => json_body(json!({
            "type": "object",
            "properties": {
                "ids": {"type": "array", "minItems": 1, "items": {"type": "integer"}, "description": "要一起签发的调标批次编号"}
            },
            "required": ["ids"]
        })),
        "/api/v1/params/whatif" | "/api/v1/params/whatif.xlsx" => json_body(json!({
            "type": "object",
            "properties": {
                "scenarios": {"type": "array", "minItems": 1, "maxItems": 3, "items": scenario_schema()},
                "within": {"type": "string", "description": "只测算该区划以内（可不填）"}
            },
            "required": ["scenarios"]
        })),
        "/api/v1/params/whatif/adopt" => json_body(scenario_schema()),
        "/api/v1/payroll/batches/{id}/bank-file" => json_body(json!({
            "type": "object",
            "properties": {"template": {"type": "string", "description": "银行代发模板代码"}},
            "required": ["template"]
        })),
        "/api/v1/payroll/back-pay/{id}/decision" => json_body(json!({
            "type": "object",
            "properties": {"approve": {"type": "boolean", "description": "true 批准，false 不批准"}},
            "required": ["approve"]
        })),
        "/api/v1/findings/{id}/verdict" => json_body(json!({
            "type": "object",
            "properties": {
                "verdict": {"type": "string", "enum": ["confirm", "dismiss", "handle"]},
                "note": {"type": "string", "description": "核实情况"}
            },
            "required": ["verdict", "note"]
        })),
        "/api/v1/recoveries/{id}/steps" => json_body(json!({
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["recovered", "request_write_off", "approve_write_off", "reject_write_off"]},
                "note": {"type": "string", "description": "追回方式和日期，或核销原因"}
            },
            "required": ["action"]
        })),
        "/api/v1/stats/lock" => json_body(json!({
            "type": "object",
            "properties": {"month": {"type": "string", "description": "统计月份YYYY-MM"}},
            "required": ["month"]
        })),
        "/api/v1/stats/reopen" => json_body(json!({
            "type": "object",
            "properties": {
                "month": {"type": "string", "description": "统计月份YYYY-MM"},
                "reason": {"type": "string", "description": "重新打开的原因（必填，最长500个字）"}
            },
            "required": ["month", "reason"]
        })),
        _ => json_body(json!({"type": "object"})),
    }
}

/// A 测算方案: its name and the parameter values it would add.
fn scenario_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "方案名称（可不填）"},
            "changes": {"type": "array", "minItems": 1, "maxItems": 10, "items": {
                "type": "object",
                "properties": {
                    "program": {"type": "string", "description": "救助项目代码，如 urban_dibao"},
                    "name": {"type": "string", "description": "参数代码，如 standard、tekun_basic_ratio"},
                    "region": {"type": "string", "description": "市（4位）或区县（6位）代码"},
                    "urban_rural": {"type": "string", "description": "urban、rural 或留空"},
                    "effective_from": {"type": "string", "description": "生效日期 YYYY-MM-DD"},
                    "value_json": {"type": "string", "description": "新取值：金额填元，比例填 1.4 或 35%"}
                },
                "required": ["program", "name", "region", "effective_from", "value_json"]
            }}
        },
        "required": ["changes"]
    })
}

fn json_body(schema: Value) -> Option<Value> {
    Some(json!({"required": true, "content": {"application/json": {"schema": schema}}}))
}

pub fn document() -> Value {
    let error = json!({
        "type": "object",
        "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "string"},
            "message": {"type": "string", "description": "中文错误说明"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}}
        }, "required": ["code", "message", "fields"]}}
    });
    let mut paths = serde_json::Map::new();
    for (method, path, summary, tag) in OPERATIONS {
        let mut params = Vec::new();
        for name in [
            "code",
            "id",
            "household_id",
            "person_id",
            "income_id",
            "asset_id",
            "job_id",
        ] {
            if path.contains(&format!("{{{name}}}")) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        let mut op = json!({
            "summary": summary,
            "tags": [tag],
            "parameters": params,
            "responses": {
                "200": {"description": "成功"},
                "400": {"description": "请求有误", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "未登录", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "403": {"description": "无权操作或CSRF校验失败", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "404": {"description": "不存在或不在管辖范围内", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "422": {"description": "输入校验失败（fields 给出各字段的说明）", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if *method != "get" && *path != "/api/v1/session" {
            op["parameters"]
                .as_array_mut()
                .expect("parameters is an array")
                .push(json!({"name": "X-CSRF-Token", "in": "header", "required": true, "schema": {"type": "string"}}));
        }
        if let Some(body) = request_body(method, path) {
            op["requestBody"] = body;
        }
        if *method == "delete" && path.starts_with("/api/v1/households/") {
            op["parameters"]
                .as_array_mut()
                .expect("parameters is an array")
                .push(json!({"name": "reason", "in": "query", "required": true,
                    "description": "删除原因（最长200个字）", "schema": {"type": "string"}}));
        }
        if *path == "/api/v1/households/{household_id}/members/{person_id}" && *method == "delete" {
            op["responses"]["409"] = json!({"description": "户主或有历史记录的成员不能删除", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        }
        if path.starts_with("/api/v1/audit") {
            let list = op["parameters"]
                .as_array_mut()
                .expect("parameters is an array");
            for (name, what) in [
                ("actor", "操作人（用户名）"),
                ("action", "操作（如 case.transition）"),
                ("entity_type", "对象类型（如 household）"),
                ("entity_id", "对象编号"),
                ("from", "起始日期（北京时间，YYYY-MM-DD，含当日）"),
                ("to", "截止日期（北京时间，YYYY-MM-DD，含当日）"),
            ] {
                list.push(json!({"name": name, "in": "query", "required": false,
                    "description": what, "schema": {"type": "string"}}));
            }
            if *path == "/api/v1/audit" {
                for name in ["limit", "offset"] {
                    list.push(json!({"name": name, "in": "query", "required": false,
                        "schema": {"type": "integer", "minimum": 0}}));
                }
            }
        }
        if path.starts_with("/api/v1/stats/") && *method == "get" {
            let list = op["parameters"]
                .as_array_mut()
                .expect("parameters is an array");
            list.push(json!({"name": "month", "in": "query", "required": false,
                "description": "统计月份YYYY-MM（默认本月）", "schema": {"type": "string"}}));
            list.push(json!({"name": "scope", "in": "query", "required": false,
                "description": "区划代码（乡镇（街道）及以上，默认本人管辖范围）", "schema": {"type": "string"}}));
            if *path == "/api/v1/stats/records" {
                list.push(json!({"name": "item", "in": "query", "required": true,
                    "description": "指标代码（如 urban_households）", "schema": {"type": "string"}}));
            }
        }
        if path.starts_with("/api/v1/stats/") && *method == "post" {
            op["responses"]["409"] = json!({"description": "该月已锁定（锁定）或未锁定（重新打开）", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        }
        if *path == "/api/v1/audit/export" {
            let file = json!({"schema": {"type": "string", "format": "binary"}});
            op["responses"]["200"] = json!({
                "description": "操作日志.xlsx，以附件下载",
                "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": file}
            });
        }
        if *path == "/api/v1/params/whatif.xlsx" {
            let file = json!({"schema": {"type": "string", "format": "binary"}});
            op["responses"]["200"] = json!({
                "description": "调标测算.xlsx，以附件下载",
                "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": file}
            });
        }
        if *path == "/api/v1/params/whatif/adopt" {
            op["responses"]["201"] = json!({"description": "已添加参数并生成调整标准批次"});
        }
        if *path == "/api/v1/payroll/batches/{id}/bank-file" {
            let file = json!({"schema": {"type": "string", "format": "binary"}});
            op["responses"]["200"] = json!({
                "description": "银行代发文件（按模板为CSV或Excel），以附件下载（Content-Disposition）",
                "content": {
                    "text/csv": file,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": file
                }
            });
        }
        paths
            .entry(path.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path item is an object")
            .insert(method.to_string(), op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "minzheng 民政业务管理系统 API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "schemas": {"Error": error},
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "mz_session"}}
        },
        "security": [{"session": []}]
    })
}
