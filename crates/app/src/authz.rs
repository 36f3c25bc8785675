//! Authorization (权限): what each role may do, in one table. Use cases ask
//! `actor.require(Permission::…)` before they read or write; pages ask `actor.may(…)` to
//! decide which buttons to draw. Nothing else keeps a list of roles.
//!
//! Jurisdiction (管辖范围) is the other half: a permission is exercised only inside the
//! actor's scope, which every store read and write takes. A few permissions also need a
//! scope of a certain level (the city bureau's work needs a city-wide account).
//!
//! Within a case, which role may take which step is the case state machine's decision
//! (`minzheng_domain::cases`); this table only says who may handle cases at all.

use minzheng_domain::{Actor, Role};

use crate::Error;

/// Something a signed-in user may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    // Accounts and the log.
    /// 管理用户账户.
    ManageUsers,
    /// 查看操作日志.
    ReadAudit,
    /// 查看完整的身份证号码和银行账号 (others see them masked).
    SeeFullIdentity,
    /// 修改民政办公室的联系电话和办公地址.
    EditOffice,
    /// 导入全国区划代码 (the system only: the command line).
    ImportDivisions,

    // Registry (户籍台账).
    /// 登记和修改家庭、成员、收入和财产.
    EditRegistry,
    /// 导入户籍台账 (a dry run, which only checks, needs no permission).
    ImportRegistry,

    // Assistance cases (救助案件).
    /// 受理救助申请.
    ApplyForAssistance,
    /// 办理救助案件 (which step, the state machine decides).
    HandleCases,
    /// 上传案件材料.
    AttachCasePapers,
    /// 修改申请信息.
    EditCaseDetails,
    /// 提出变更申请.
    OpenChangeCase,
    /// 发布公示.
    PublishNotices,
    /// 执行每日任务 (高龄津贴 proposals, due reviews).
    RunCaseTasks,
    /// 设置救助标准和参数.
    ManageParams,

    // Payroll (资金发放).
    /// 生成发放批次.
    GeneratePayroll,
    /// 审核签发发放批次.
    SignOffPayroll,
    /// 结束发放批次.
    ClosePayroll,
    /// 生成银行代发文件.
    ExportBankFile,
    /// 导入银行回盘文件.
    ImportReturnFile,
    /// 查看本村的资金发放情况 (the township's batches of a month as they touch the village,
    /// read-only).
    ReadVillagePayroll,
    /// 更正退票信息.
    CorrectPaymentException,
    /// 申请补发.
    RequestBackPay,
    /// 审批补发.
    DecideBackPay,
    /// 配置银行代发模板.
    ManageBankTemplates,
    /// 生成调标批次 (高龄津贴 age bands, a new standard).
    PrepareRepricing,
    /// 审核签发调标批次 (applies the new amounts) or void it.
    SignOffRepricing,
    /// 审核确认调标批次 of a new standard for a program the county approves.
    ConfirmRepricing,

    // Deaths and recovery (殡葬管理, 追回).
    /// 登记死亡和殡葬信息 (which stops the person's payments).
    RecordDeaths,
    /// 办理追回 (record money recovered, ask for a write-off).
    HandleRecoveries,
    /// 批准核销追回款.
    ApproveWriteOff,
    /// 运行数据比对.
    RunChecks,
    /// 核实处理比对疑点.
    ResolveFindings,
    /// 登记工作人员和村（居）委会成员的近亲属备案.
    DeclareRelatives,
    /// 导入其他部门的核对数据.
    ImportLists,

    // Office standardization (规范化建设).
    /// 登记本办公室的规范化建设情况 (profile, rooms, equipment, staff changes, plan).
    RecordOfficeStandards,
    /// 规范化建设的市级管理 (parameters, plan review, staff-change decisions,
    /// inspections, subsidies).
    ManageStandards,

    // Statistics (统计月报).
    /// 查看统计月报 (and the records behind its figures).
    ReadStatistics,
    /// 锁定和重新打开统计月份.
    LockStatistics,
}

/// How wide the actor's scope must be for a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeRule {
    /// Any scope the role works in.
    Any,
    /// A city or province (a county or narrower account may not, whatever its role).
    CityWide,
    /// One village (12 digits): the permission reads what concerns that village only.
    Village,
}

use Permission as P;
use Role as R;

const WRITERS: &[Role] = &[
    R::CityAdmin,
    R::CountyApprover,
    R::TownshipDirector,
    R::TownshipStaff,
    R::VillageAssistant,
];
const FRONT_DESK: &[Role] = &[R::VillageAssistant, R::TownshipStaff, R::TownshipDirector];
const TOWNSHIP_OFFICE: &[Role] = &[R::TownshipStaff, R::TownshipDirector];
const DIRECTOR: &[Role] = &[R::TownshipDirector];
const CITY_ADMIN: &[Role] = &[R::CityAdmin];

/// The one table: permission → the roles that hold it, the scope it needs, and what it is
/// (the end of the refusal "只有…可以…").
const TABLE: &[(Permission, &[Role], ScopeRule, &str)] = &[
    (P::ManageUsers, CITY_ADMIN, ScopeRule::Any, "管理用户"),
    (
        P::ReadAudit,
        &[R::CityAdmin, R::Auditor],
        ScopeRule::Any,
        "查看操作日志",
    ),
    (
        P::SeeFullIdentity,
        &[
            R::CityAdmin,
            R::CountyApprover,
            R::TownshipDirector,
            R::TownshipStaff,
        ],
        ScopeRule::Any,
        "查看完整的身份证号码和银行账号",
    ),
    (P::EditOffice, WRITERS, ScopeRule::Any, "修改民政办公室信息"),
    (P::ImportDivisions, &[], ScopeRule::Any, "导入区划"),
    (
        P::EditRegistry,
        WRITERS,
        ScopeRule::Any,
        "登记和修改户籍台账",
    ),
    (P::ImportRegistry, WRITERS, ScopeRule::Any, "导入户籍台账"),
    (
        P::ApplyForAssistance,
        FRONT_DESK,
        ScopeRule::Any,
        "受理救助申请",
    ),
    (P::HandleCases, WRITERS, ScopeRule::Any, "办理救助案件"),
    (
        P::AttachCasePapers,
        &[
            R::CountyApprover,
            R::TownshipDirector,
            R::TownshipStaff,
            R::VillageAssistant,
        ],
        ScopeRule::Any,
        "上传案件材料",
    ),
    (
        P::EditCaseDetails,
        FRONT_DESK,
        ScopeRule::Any,
        "修改申请信息",
    ),
    (
        P::OpenChangeCase,
        FRONT_DESK,
        ScopeRule::Any,
        "提出变更申请",
    ),
    (P::PublishNotices, FRONT_DESK, ScopeRule::Any, "发布公示"),
    (
        P::RunCaseTasks,
        &[R::TownshipDirector, R::CityAdmin],
        ScopeRule::Any,
        "执行每日任务",
    ),
    (
        P::ManageParams,
        CITY_ADMIN,
        ScopeRule::Any,
        "设置救助标准和参数",
    ),
    (
        P::GeneratePayroll,
        TOWNSHIP_OFFICE,
        ScopeRule::Any,
        "生成发放批次",
    ),
    (
        P::SignOffPayroll,
        DIRECTOR,
        ScopeRule::Any,
        "审核签发发放批次",
    ),
    (P::ClosePayroll, DIRECTOR, ScopeRule::Any, "结束发放批次"),
    (
        P::ExportBankFile,
        TOWNSHIP_OFFICE,
        ScopeRule::Any,
        "生成银行代发文件",
    ),
    (
        P::ImportReturnFile,
        TOWNSHIP_OFFICE,
        ScopeRule::Any,
        "导入银行回盘文件",
    ),
    (
        P::ReadVillagePayroll,
        &[R::VillageAssistant],
        ScopeRule::Village,
        "查看本村的资金发放情况",
    ),
    (
        P::CorrectPaymentException,
        TOWNSHIP_OFFICE,
        ScopeRule::Any,
        "更正退票信息",
    ),
    (
        P::RequestBackPay,
        TOWNSHIP_OFFICE,
        ScopeRule::Any,
        "申请补发",
    ),
    (P::DecideBackPay, DIRECTOR, ScopeRule::Any, "审批补发"),
    (
        P::ManageBankTemplates,
        CITY_ADMIN,
        ScopeRule::Any,
        "配置银行代发模板",
    ),
    (
        P::PrepareRepricing,
        &[R::CityAdmin, R::TownshipDirector, R::TownshipStaff],
        ScopeRule::Any,
        "生成调标批次",
    ),
    (
        P::SignOffRepricing,
        DIRECTOR,
        ScopeRule::Any,
        "审核签发调标批次",
    ),
    (
        P::ConfirmRepricing,
        &[R::CountyApprover],
        ScopeRule::Any,
        "审核确认县级审批项目的调整标准批次",
    ),
    (
        P::RecordDeaths,
        TOWNSHIP_OFFICE,
        ScopeRule::Any,
        "登记死亡和殡葬信息",
    ),
    (
        P::HandleRecoveries,
        TOWNSHIP_OFFICE,
        ScopeRule::Any,
        "办理追回",
    ),
    (
        P::ApproveWriteOff,
        DIRECTOR,
        ScopeRule::Any,
        "批准核销追回款",
    ),
    (
        P::RunChecks,
        &[
            R::CityAdmin,
            R::CountyApprover,
            R::TownshipDirector,
            R::TownshipStaff,
        ],
        ScopeRule::Any,
        "运行数据比对",
    ),
    (
        P::ResolveFindings,
        TOWNSHIP_OFFICE,
        ScopeRule::Any,
        "核实处理比对疑点",
    ),
    (
        P::DeclareRelatives,
        WRITERS,
        ScopeRule::Any,
        "登记近亲属备案",
    ),
    (
        P::ImportLists,
        &[R::CityAdmin, R::CountyApprover],
        ScopeRule::Any,
        "导入其他部门的核对数据",
    ),
    (
        P::RecordOfficeStandards,
        &[R::CityAdmin, R::TownshipDirector, R::TownshipStaff],
        ScopeRule::Any,
        "登记规范化建设情况",
    ),
    (
        P::ManageStandards,
        CITY_ADMIN,
        ScopeRule::CityWide,
        "管理规范化建设",
    ),
    (
        P::ReadStatistics,
        &[
            R::CityAdmin,
            R::CountyApprover,
            R::TownshipDirector,
            R::TownshipStaff,
            R::Auditor,
        ],
        ScopeRule::Any,
        "查看统计月报",
    ),
    (
        P::LockStatistics,
        CITY_ADMIN,
        ScopeRule::CityWide,
        "锁定和重新打开统计月份",
    ),
];

impl Permission {
    pub const ALL: [Permission; 39] = [
        P::ManageUsers,
        P::ReadAudit,
        P::SeeFullIdentity,
        P::EditOffice,
        P::ImportDivisions,
        P::EditRegistry,
        P::ImportRegistry,
        P::ApplyForAssistance,
        P::HandleCases,
        P::AttachCasePapers,
        P::EditCaseDetails,
        P::OpenChangeCase,
        P::PublishNotices,
        P::RunCaseTasks,
        P::ManageParams,
        P::GeneratePayroll,
        P::SignOffPayroll,
        P::ClosePayroll,
        P::ExportBankFile,
        P::ImportReturnFile,
        P::ReadVillagePayroll,
        P::CorrectPaymentException,
        P::RequestBackPay,
        P::DecideBackPay,
        P::ManageBankTemplates,
        P::PrepareRepricing,
        P::SignOffRepricing,
        P::ConfirmRepricing,
        P::RecordDeaths,
        P::HandleRecoveries,
        P::ApproveWriteOff,
        P::RunChecks,
        P::ResolveFindings,
        P::DeclareRelatives,
        P::ImportLists,
        P::RecordOfficeStandards,
        P::ManageStandards,
        P::ReadStatistics,
        P::LockStatistics,
    ];

    fn row(self) -> &'static (Permission, &'static [Role], ScopeRule, &'static str) {
        TABLE.iter().find(|(p, ..)| *p == self).unwrap_or(&TABLE[0])
    }

    /// The roles that hold this permission.
    pub fn roles(self) -> &'static [Role] {
        self.row().1
    }

    /// How wide a scope it needs.
    pub fn scope_rule(self) -> ScopeRule {
        self.row().2
    }

    /// What it allows, in Chinese ("审核签发发放批次").
    pub fn what(self) -> &'static str {
        self.row().3
    }

    /// Whether `role`, working in a scope of `scope_len` digits (`None`: the whole
    /// system), holds it.
    fn granted(self, role: Role, scope_len: Option<usize>) -> bool {
        self.roles().contains(&role)
            && match self.scope_rule() {
                ScopeRule::Any => true,
                ScopeRule::CityWide => scope_len.is_none_or(|n| n <= 4),
                ScopeRule::Village => scope_len.is_none_or(|n| n == 12),
            }
    }

    /// The refusal a role without it gets: "只有民政办主任可以审核签发发放批次".
    pub fn refusal(self) -> String {
        let who: Vec<&str> = self.roles().iter().map(|r| r.label()).collect();
        format!("只有{}可以{}", who.join("或"), self.what())
    }
}

/// What an actor may do. The system (the command line, daily tasks, demo seeding) acts
/// without a role and may do everything.
pub trait Authorize {
    /// Whether the actor holds `p` (for pages: which buttons to draw).
    fn may(&self, p: Permission) -> bool;

    /// `Ok` if the actor holds `p`, else 403 with the permission's refusal.
    fn require(&self, p: Permission) -> Result<(), Error> {
        if self.may(p) {
            Ok(())
        } else {
            Err(Error::Forbidden(p.refusal()))
        }
    }

    /// Like [`Authorize::require`], with a refusal of the use case's own words.
    fn require_or(&self, p: Permission, refusal: &str) -> Result<(), Error> {
        if self.may(p) {
            Ok(())
        } else {
            Err(Error::Forbidden(refusal.to_string()))
        }
    }
}

impl Authorize for Actor {
    fn may(&self, p: Permission) -> bool {
        match self.role {
            None => true,
            Some(r) => p.granted(r, self.scope.code().map(|c| c.as_str().len())),
        }
    }
}

/// Whether `role` (working at its usual level) holds `p`: for listing a role's rights.
pub fn role_may(role: Role, p: Permission) -> bool {
    p.roles().contains(&role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minzheng_domain::{DivisionCode, Scope};

    fn actor(role: Role, code: &str) -> Actor {
        Actor {
            user_id: Some(1),
            username: "u".into(),
            role: Some(role),
            scope: Scope::of(DivisionCode::parse_native(code).unwrap()),
        }
    }

    #[test]
    fn every_permission_has_one_row() {
        for p in Permission::ALL {
            assert_eq!(TABLE.iter().filter(|(q, ..)| *q == p).count(), 1, "{p:?}");
            // Only the system imports the national division codes.
            assert_eq!(
                p.roles().is_empty(),
                p == Permission::ImportDivisions,
                "{p:?}"
            );
        }
        assert_eq!(TABLE.len(), Permission::ALL.len());
    }

    #[test]
    fn the_auditor_changes_nothing() {
        let auditor = actor(Role::Auditor, "5118");
        for p in Permission::ALL {
            assert_eq!(
                auditor.may(p),
                p == Permission::ReadAudit || p == Permission::ReadStatistics,
                "auditor and {p:?}"
            );
        }
    }

    #[test]
    fn payroll_is_the_township_office_and_its_director_signs() {
        let staff = actor(Role::TownshipStaff, "511802001");
        let director = actor(Role::TownshipDirector, "511802001");
        assert!(staff.may(Permission::GeneratePayroll));
        assert!(!staff.may(Permission::SignOffPayroll));
        assert!(director.may(Permission::SignOffPayroll));
        let e = staff.require(Permission::SignOffPayroll).unwrap_err();
        assert_eq!(e.to_string(), "只有民政办主任可以审核签发发放批次");
    }

    #[test]
    fn a_village_assistant_reads_the_payroll_of_their_village_only() {
        let assistant = actor(Role::VillageAssistant, "511802001001");
        assert!(assistant.may(Permission::ReadVillagePayroll));
        for p in [
            Permission::GeneratePayroll,
            Permission::SignOffPayroll,
            Permission::ExportBankFile,
            Permission::ImportReturnFile,
            Permission::ClosePayroll,
        ] {
            assert!(!assistant.may(p), "{p:?}");
        }
        // An assistant account set up wider than one village reads nothing this way.
        assert!(!actor(Role::VillageAssistant, "511802001").may(Permission::ReadVillagePayroll));
        // The township's own roles read the batches themselves.
        for role in [Role::TownshipStaff, Role::TownshipDirector, Role::Auditor] {
            assert!(!actor(role, "511802001001").may(Permission::ReadVillagePayroll));
        }
    }

    #[test]
    fn a_use_case_may_refuse_in_its_own_words() {
        let auditor = actor(Role::Auditor, "5118");
        let staff = actor(Role::TownshipStaff, "511802001");
        let e = auditor
            .require_or(Permission::EditCaseDetails, "您无权修改申请信息")
            .unwrap_err();
        assert!(
            matches!(&e, Error::Forbidden(m) if m == "您无权修改申请信息"),
            "{e}"
        );
        assert!(staff
            .require_or(Permission::EditCaseDetails, "您无权修改申请信息")
            .is_ok());
        assert!(role_may(Role::TownshipDirector, Permission::SignOffPayroll));
        assert!(!role_may(Role::TownshipStaff, Permission::SignOffPayroll));
    }

    #[test]
    fn city_work_needs_a_city_wide_account_and_the_system_may_all() {
        assert!(actor(Role::CityAdmin, "5118").may(Permission::ManageStandards));
        assert!(!actor(Role::CityAdmin, "511802").may(Permission::ManageStandards));
        let system = Actor::system("cli");
        assert!(Permission::ALL.iter().all(|p| system.may(*p)));
    }
}
